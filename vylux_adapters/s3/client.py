"""Building boto3 S3 clients from plain settings (no global session, no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3.session
from attrs import field, frozen
from botocore.config import Config as BotoConfig

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


@frozen(kw_only=True)
class S3BucketSettings:
    """Where one bucket lives and how to sign for it (one per role: source, media)."""

    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    region: str
    bucket: str


@frozen(kw_only=True)
class S3Tuning:
    """Timeouts and sizes; the defaults suit a LAN or same-region S3."""

    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 3
    ping_timeout: float = 2.0
    read_chunk_size: int = 1 * MIB
    multipart_threshold: int = 16 * MIB
    multipart_part_size: int = 8 * MIB
    multipart_concurrency: int = 4


@frozen
class S3Clients:
    """The two clients of one store: ``main`` for data, ``ping`` with short timeouts so
    that a readiness probe answers quickly. boto3 clients are thread-safe."""

    main: S3Client
    ping: S3Client

    def close(self) -> None:
        self.main.close()
        self.ping.close()


def build_clients(settings: S3BucketSettings, *, tuning: S3Tuning, pool_size: int) -> S3Clients:
    """Clients on one fresh session (never boto3's global default one); path-style.

    Blocking: botocore parses its JSON service models here, a few hundred ms of CPU
    and disk, so async code calls it in a thread. No network I/O happens. The
    bucket in ``settings`` is not used: clients are per endpoint and credentials.
    Credentials are always explicit: an empty key must fail loudly at the server,
    not fall back to environment variables or an instance-metadata lookup.
    """
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        region_name=settings.region,
    )
    main = _client(
        session, settings, connect_timeout=tuning.connect_timeout,
        read_timeout=tuning.read_timeout, max_attempts=tuning.max_attempts, pool_size=pool_size,
    )  # fmt: skip
    # The second client of a session reuses its parsed models: cheap.
    ping = _client(
        session, settings, connect_timeout=tuning.ping_timeout,
        read_timeout=tuning.ping_timeout, max_attempts=1, pool_size=1,
    )  # fmt: skip
    return S3Clients(main=main, ping=ping)


def _client(
    session: boto3.session.Session,
    settings: S3BucketSettings,
    *,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
    pool_size: int,
) -> S3Client:
    config = BotoConfig(
        region_name=settings.region,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        # botocore's "standard" mode: backoff with jitter on throttling, 5xx and
        # connection errors; max_attempts counts the first one.
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=pool_size,
        user_agent_extra="vylux",
    )
    return session.client("s3", endpoint_url=settings.endpoint, config=config)
