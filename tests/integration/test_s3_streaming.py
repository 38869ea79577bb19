"""S3ObjectStore beyond the port: bounded memory on large streams, real multipart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.rss import RssGrowth
from tests.support.seaweedfs import S3Server
from vylux_adapters.s3 import S3Clients, S3ObjectStore, S3Tuning

pytestmark = pytest.mark.s3

MIB = 1024 * 1024
OBJECT_SIZE = 64 * MIB
RSS_BUDGET = 50 * MIB


@pytest.fixture
def store(s3_clients: S3Clients, s3_bucket: str) -> S3ObjectStore:
    return S3ObjectStore(clients=s3_clients, bucket=s3_bucket, max_concurrency=8)


def write_random_file(path: Path, size: int) -> Path:
    with path.open("wb") as out:  # chunk by chunk: the test must not hold it in memory
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))
    return path


@pytest.fixture
async def big_object(store: S3ObjectStore, tmp_path: Path) -> str:
    source = write_random_file(tmp_path / "big.bin", OBJECT_SIZE)
    await store.upload_file("videos/big.bin", source, content_type="video/mp4")
    source.unlink()
    return "videos/big.bin"


@pytest.mark.slow
async def test_streaming_a_large_object_keeps_rss_growth_bounded(
    store: S3ObjectStore, big_object: str
) -> None:
    received = 0
    with RssGrowth() as rss:
        reader = await store.open(big_object)
        try:
            async for chunk in reader.chunks():
                received += len(chunk)
                rss.sample()
        finally:
            await reader.aclose()

    assert received == OBJECT_SIZE
    assert rss.growth < RSS_BUDGET, f"RSS grew by {rss.growth / MIB:.1f} MiB"


@pytest.mark.slow
async def test_download_of_a_large_object_keeps_rss_growth_bounded(
    store: S3ObjectStore, big_object: str, tmp_path: Path
) -> None:
    with RssGrowth() as rss:
        size = await store.download(big_object, tmp_path / "copy.bin")

    assert size == OBJECT_SIZE == (tmp_path / "copy.bin").stat().st_size
    assert rss.growth < RSS_BUDGET, f"RSS grew by {rss.growth / MIB:.1f} MiB"


@pytest.mark.parametrize(
    ("size", "want_parts"),
    [
        pytest.param(3 * MIB, None, id="below-threshold-single-put"),
        pytest.param(20 * MIB, 3, id="above-threshold-three-parts"),
    ],
)
async def test_upload_file_goes_multipart_above_the_threshold(
    s3_server: S3Server,
    s3_clients: S3Clients,
    s3_bucket: str,
    tmp_path: Path,
    size: int,
    want_parts: int | None,
) -> None:
    tuning = S3Tuning(multipart_threshold=8 * MIB, multipart_part_size=8 * MIB)
    store = S3ObjectStore(clients=s3_clients, bucket=s3_bucket, tuning=tuning)
    source = write_random_file(tmp_path / "upload.bin", size)

    await store.upload_file("up.bin", source, content_type="video/mp4")

    head = s3_server.admin.head_object(Bucket=s3_bucket, Key="up.bin")
    etag = head["ETag"].strip('"')
    # A multipart object's ETag ends in "-<number of parts>".
    parts = int(etag.rsplit("-", 1)[1]) if "-" in etag else None
    assert (head["ContentLength"], head["ContentType"], parts) == (size, "video/mp4", want_parts)
