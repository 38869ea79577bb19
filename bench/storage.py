"""Memory and throughput of S3ObjectStore on one large object, against a real SeaweedFS.

Acceptance: streaming a 200 MB object keeps the process's RSS growth under 50 MB.

Run from the repository root (it starts and stops its own ``weed mini``)::

    .venv/bin/python -m bench.storage            # 200 MB
    .venv/bin/python -m bench.storage --size-mb 1000 --chunk-kib 256

It prints, for upload, a streamed read (``open().chunks()``) and ``download``: the
RSS growth at peak over the step (the kernel's high-water mark, reset before each
step) and the throughput in MB/s (10^6 bytes per second).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.rss import RssGrowth
from tests.support.seaweedfs import fresh_bucket, start_seaweedfs
from vylux_adapters.s3 import S3ObjectStore, S3Tuning

MB = 1_000_000
MIB = 1024 * 1024
BUDGET = 50 * MB


def make_file(path: Path, size: int) -> None:
    """Random-ish bytes written a MiB at a time: the bench never holds the object."""
    block = os.urandom(MIB)
    with path.open("wb") as out:
        written = 0
        while written < size:
            piece = block[: size - written]
            out.write(piece)
            written += len(piece)


async def measure(label: str, size: int, step: Callable[[RssGrowth], Awaitable[None]]) -> bool:
    with RssGrowth() as rss:
        started = time.perf_counter()
        await step(rss)
        elapsed = time.perf_counter() - started
    ok = rss.growth < BUDGET
    print(
        f"{label:<10} {size / MB:8.0f} MB  {elapsed:6.2f} s  {size / MB / elapsed:8.1f} MB/s  "
        f"RSS growth {rss.growth / MB:6.1f} MB  {'ok' if ok else 'OVER BUDGET'}"
    )
    return ok


async def run(size: int, chunk_size: int, work: Path) -> bool:
    source = work / "object.bin"
    make_file(source, size)
    with start_seaweedfs(work / "seaweedfs") as server, fresh_bucket(server) as bucket:
        tuning = S3Tuning(read_chunk_size=chunk_size)
        store = await S3ObjectStore.create(settings=server.bucket_settings(bucket), tuning=tuning)
        try:
            return await _steps(store, source, size, work)
        finally:
            await store.aclose()


async def _steps(store: S3ObjectStore, source: Path, size: int, work: Path) -> bool:
    key = "videos/bench/object.bin"

    async def upload(_: RssGrowth) -> None:
        await store.upload_file(key, source, content_type="video/mp4")

    async def stream(rss: RssGrowth) -> None:
        received = 0
        reader = await store.open(key)
        try:
            async for chunk in reader.chunks():
                received += len(chunk)
                rss.sample()
        finally:
            await reader.aclose()
        assert received == size, (received, size)

    async def download(_: RssGrowth) -> None:
        assert await store.download(key, work / "copy.bin") == size
        (work / "copy.bin").unlink()

    await measure("upload", size, upload)
    await asyncio.to_thread(source.unlink)  # free the disk before the copy
    streamed_ok = await measure("stream", size, stream)
    downloaded_ok = await measure("download", size, download)
    return streamed_ok and downloaded_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--chunk-kib", type=int, default=1024, help="read chunk size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vylux-bench-") as work:
        ok = asyncio.run(run(args.size_mb * MB, args.chunk_kib * 1024, Path(work)))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
