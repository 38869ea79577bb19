"""S3ObjectStore error mapping: an outage is never reported as a missing object."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.seaweedfs import S3Server
from vylux_adapters.s3 import S3BucketSettings, S3Clients, S3ObjectStore, S3Tuning
from vylux_core.errors import (
    InvalidInput,
    InvalidStorageKey,
    ObjectNotFound,
    StorageUnavailable,
)
from vylux_core.ports.object_store import ByteRange, ObjectStore

SECRET = "wJalrXUtnFEMI-not-a-real-secret-K7MDENG"
# One attempt and short timeouts: a closed port must fail fast, not back off.
FAIL_FAST = S3Tuning(connect_timeout=0.5, read_timeout=2, max_attempts=1, ping_timeout=0.5)

Operation = Callable[[ObjectStore, Path], Awaitable[object]]


async def _drain(keys: AsyncIterator[str]) -> list[str]:
    return [key async for key in keys]


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"payload")
    return path


OPERATIONS = [
    pytest.param(lambda s, _: s.stat("k"), id="stat"),
    pytest.param(lambda s, _: s.open("k"), id="open"),
    pytest.param(lambda s, _: s.open("k", ByteRange(2, 5)), id="open-range"),
    pytest.param(lambda s, _: s.read_bytes("k", max_bytes=10), id="read_bytes"),
    pytest.param(lambda s, tmp: s.download("k", tmp / "out.bin"), id="download"),
    pytest.param(lambda s, _: s.put_bytes("k", b"x", content_type="text/plain"), id="put_bytes"),
    pytest.param(
        lambda s, tmp: s.upload_file("k", _source(tmp), content_type="text/plain"),
        id="upload_file",
    ),
    pytest.param(lambda s, _: _drain(s.list("p/")), id="list"),
    pytest.param(lambda s, _: s.delete_many(["k"]), id="delete_many"),
    pytest.param(lambda s, _: s.delete_prefix("p/"), id="delete_prefix"),
    pytest.param(lambda s, _: s.ping(), id="ping"),
]
# On a missing bucket a HEAD answers a bare 404, which cannot be told from a missing
# key: stat says "not found" there. ping is how /readyz catches it.
BUCKET_OPERATIONS = [
    param for param in OPERATIONS if param.id not in ("stat", "delete_many", "delete_prefix")
]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
async def unreachable_store() -> AsyncIterator[S3ObjectStore]:
    settings = S3BucketSettings(
        endpoint=f"http://127.0.0.1:{closed_port()}",
        access_key="AKIAVYLUXTEST",
        secret_key=SECRET,
        region="auto",
        bucket="media",
    )
    store = await S3ObjectStore.create(settings=settings, tuning=FAIL_FAST)
    yield store
    await store.aclose()


@pytest.fixture(scope="module")
async def forged_store(s3_server: S3Server) -> AsyncIterator[S3ObjectStore]:
    """The real server and bucket name, but a secret key it does not know."""
    settings = S3BucketSettings(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=SECRET,
        region=s3_server.region,
        bucket="vylux-forged",
    )
    store = await S3ObjectStore.create(settings=settings, tuning=FAIL_FAST)
    yield store
    await store.aclose()


def assert_outage(error: StorageUnavailable, bucket: str) -> None:
    assert str(error).startswith("S3 ")  # "S3 <operation> on bucket '<bucket>' failed: …"
    assert f"bucket {bucket!r}" in str(error)
    assert SECRET not in str(error)
    assert isinstance(error.__cause__, BotoCoreError | ClientError)


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_closed_port_is_an_outage_not_a_missing_object(
    unreachable_store: S3ObjectStore,
    tmp_path: Path,
    operation: Operation,
) -> None:
    with pytest.raises(StorageUnavailable) as caught:
        await operation(unreachable_store, tmp_path)

    assert_outage(caught.value, "media")
    assert not (tmp_path / "out.bin").exists()


@pytest.mark.s3
@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_rejected_signature_is_an_outage_not_a_missing_object(
    forged_store: S3ObjectStore,
    tmp_path: Path,
    operation: Operation,
) -> None:
    with pytest.raises(StorageUnavailable) as caught:
        await operation(forged_store, tmp_path)

    assert_outage(caught.value, "vylux-forged")


@pytest.mark.s3
@pytest.mark.parametrize("operation", BUCKET_OPERATIONS)
async def test_a_missing_bucket_is_an_outage(
    s3_server: S3Server,
    s3_clients: S3Clients,
    tmp_path: Path,
    operation: Operation,
) -> None:
    store = S3ObjectStore(clients=s3_clients, bucket="vylux-no-such-bucket")

    with pytest.raises(StorageUnavailable):
        await operation(store, tmp_path)


@pytest.mark.s3
@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("k" * 1025, id="over-1024-bytes"),
        pytest.param("x/../k", id="dot-segment-refused-by-the-server"),
    ],
)
async def test_keys_the_store_cannot_hold_are_refused(
    s3_clients: S3Clients, s3_bucket: str, key: str
) -> None:
    store = S3ObjectStore(clients=s3_clients, bucket=s3_bucket)

    with pytest.raises(InvalidStorageKey):
        await store.put_bytes(key, b"x", content_type="text/plain")


@pytest.mark.s3
@pytest.mark.parametrize(
    ("key", "byte_range", "error"),
    [
        pytest.param("k", ByteRange(5, 2), InvalidInput, id="range-end-before-start"),
        pytest.param("k", ByteRange(-1), InvalidInput, id="negative-range-start"),
        pytest.param("k", ByteRange(10), InvalidInput, id="range-past-the-end"),
        pytest.param("missing", None, ObjectNotFound, id="missing-key"),
        pytest.param("missing", ByteRange(100), ObjectNotFound, id="missing-key-with-range"),
    ],
)
async def test_bad_reads_are_caller_errors(
    s3_clients: S3Clients,
    s3_bucket: str,
    key: str,
    byte_range: ByteRange | None,
    error: type[Exception],
) -> None:
    store = S3ObjectStore(clients=s3_clients, bucket=s3_bucket)
    await store.put_bytes("k", b"0123456789", content_type="text/plain")

    with pytest.raises(error):
        await store.open(key, byte_range)
