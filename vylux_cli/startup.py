"""Start-up failures of ``serve``, ``work`` and ``migrate`` as one line naming the cause.

The adapters report an outage by type only (``DatabaseUnavailable``), never with the
driver's text, which can carry credentials. At start-up the operator needs the cause,
so it is found again here from typed facts: a TCP connection attempt to the configured
host (refused, unknown host, timed out) and, when the server answers, whether the named
database exists. Nothing here imports the database or queue stacks unless a start-up
has already failed.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from vylux_cli.command_config import (
    EXIT_FAILURE,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    StartupError,
    os_error_reason,
)

PROBE_TIMEOUT_SECONDS = 5.0
# Waiting for Redis at start-up: 1 s, 2 s, 4 s … then every 30 s.
REDIS_BACKOFF_FIRST_SECONDS = 1.0
REDIS_BACKOFF_MAX_SECONDS = 30.0

_DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "rediss": 6379}


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (user, host, port and path kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{parts.username or ''}:***@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; a busy port is a one-line StartupError.

    Binding here, before anything else starts, lets ``serve`` fail at once on a busy
    port and announce its address only once it holds it.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}: {exc.strerror}", EXIT_USAGE) from None
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(socket.SOMAXCONN)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} is in use on {host}", EXIT_FAILURE) from None
        raise StartupError(
            f"cannot listen on {host}:{port}: {os_error_reason(exc)}", EXIT_FAILURE
        ) from None
    listener.set_inheritable(True)
    return listener


def database_error(database_url: str | None, sqlite_path: Path) -> StartupError:
    """Why the database could not be used at start-up, found by probing it again."""
    if database_url is None:
        return StartupError(
            f"cannot open the SQLite database {sqlite_path} (is its directory writable?)",
            EXIT_UNAVAILABLE,
        )
    parts = urlsplit(database_url)
    shown = masked_url(database_url)
    host, port = parts.hostname or "localhost", _port(parts.scheme, parts.port)
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS).close()
    except OSError as exc:
        return StartupError(f"cannot connect to {shown}: {os_error_reason(exc)}", EXIT_UNAVAILABLE)
    database = unquote(parts.path.lstrip("/"))
    if database and _database_missing(database_url, database):
        server = urlunsplit(parts._replace(path="", query="", fragment=""))
        return StartupError(
            f"database {database!r} does not exist on {masked_url(server)} "
            "(create it, or fix DATABASE_URL)",
            EXIT_USAGE,
        )
    return StartupError(
        f"cannot use {shown}: the server answers but refuses the connection "
        "(check the user, password and database; -v shows the driver's reason)",
        EXIT_UNAVAILABLE,
    )


def _database_missing(database_url: str, database: str) -> bool:
    """Whether the server lists no database named ``database`` (asked through the
    ``postgres`` maintenance database with the same credentials); False when unsure."""
    import psycopg

    parts = urlsplit(database_url)
    scheme = parts.scheme.split("+")[0]
    maintenance = urlunsplit(parts._replace(scheme=scheme, path="/postgres"))
    try:
        with psycopg.connect(maintenance, connect_timeout=int(PROBE_TIMEOUT_SECONDS)) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            return row.fetchone() is None
    except psycopg.Error:
        return False


async def wait_for_redis(redis_url: str, warn: Callable[[str], None]) -> None:
    """Return once Redis at ``redis_url`` accepts TCP connections, calling ``warn`` with
    one line per failed try; backs off from 1 s to 30 s between tries."""
    import asyncio

    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss"):
        return  # a unix socket: nothing to probe over TCP
    host, port = parts.hostname or "localhost", _port(parts.scheme, parts.port)
    delay = REDIS_BACKOFF_FIRST_SECONDS
    while True:
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), PROBE_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else os_error_reason(exc)
            warn(
                f"Redis at {masked_url(redis_url)} is unreachable ({reason}); "
                f"trying again in {delay:g}s"
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, REDIS_BACKOFF_MAX_SECONDS)
            continue
        writer.close()
        return


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else _DEFAULT_PORTS.get(scheme.split("+")[0], 0)
