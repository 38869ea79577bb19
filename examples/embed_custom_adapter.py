"""A custom ObjectStore adapter, used by ``JobService`` in place of S3 or a directory.

    .venv/bin/python examples/embed_custom_adapter.py

``PrefixedDictStore`` keeps objects in a dict shared by several stores, each seeing only
the keys under its own prefix: a stand-in for "one bucket, one folder per tenant". It
implements the ``vylux_core.ports.ObjectStore`` Protocol (each method's docstring there
is the contract); no base class is needed, the structural type is checked by mypy.

Before using an adapter like this for real, run the port's contract suite against it:
add a factory to ``OBJECT_STORE_FACTORIES`` in ``tests/contract/test_object_store.py``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from attrs import frozen

from vylux_adapters.memory import (
    ManualClock,
    MemoryImageCacheIndex,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectReader,
    MemoryTaskQueue,
    SequentialIdGenerator,
)
from vylux_core import ByteLRU, JobLimits, JobService, decode_job_request
from vylux_core.errors import (
    InvalidStorageKey,
    ObjectNotFound,
    SourceMissing,
    SourceTooLarge,
)
from vylux_core.ports import ByteRange, ObjectInfo, ObjectStore


@frozen
class StoredObject:
    data: bytes
    content_type: str | None


class PrefixedDictStore:
    """Objects live in ``backing`` under ``prefix + key``; keys never leave the prefix."""

    def __init__(self, backing: dict[str, StoredObject], prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError("prefix must end with '/'")
        self._backing = backing
        self._prefix = prefix

    def _full(self, key: str) -> str:
        if not key or "\x00" in key or key.startswith("/") or ".." in key.split("/"):
            raise InvalidStorageKey(f"invalid key: {key!r}")
        return self._prefix + key

    def _get(self, key: str) -> StoredObject:
        try:
            return self._backing[self._full(key)]
        except KeyError:
            raise ObjectNotFound(f"object not found: {key}") from None

    async def stat(self, key: str) -> ObjectInfo:
        stored = self._get(key)
        return ObjectInfo(key=key, size=len(stored.data), content_type=stored.content_type)

    async def open(self, key: str, byte_range: ByteRange | None = None) -> MemoryObjectReader:
        stored = self._get(key)
        # Opening bytes held in memory, ranges included, is the memory adapter's reader.
        return MemoryObjectReader.opened(key, stored.data, stored.content_type, byte_range)

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        stored = self._get(key)
        if len(stored.data) > max_bytes:
            raise SourceTooLarge(max_bytes)
        return stored.data

    async def download(self, key: str, destination: Path) -> int:
        stored = self._get(key)
        await asyncio.to_thread(destination.write_bytes, stored.data)
        return len(stored.data)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        self._backing[self._full(key)] = StoredObject(bytes(data), content_type)

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        data = await asyncio.to_thread(source.read_bytes)
        self._backing[self._full(key)] = StoredObject(data, content_type)

    async def list(self, prefix: str) -> AsyncIterator[str]:
        full = self._prefix + prefix
        for name in sorted(self._backing):
            if name.startswith(full):
                yield name.removeprefix(self._prefix)

    async def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._backing.pop(self._full(key), None)

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise InvalidStorageKey("refusing to delete with an empty prefix")
        doomed = [name for name in self._backing if name.startswith(self._prefix + prefix)]
        for name in doomed:
            del self._backing[name]
        return len(doomed)

    async def ping(self) -> None:
        return None


def _check_protocol(store: PrefixedDictStore) -> ObjectStore:
    return store  # mypy verifies here that the class satisfies the port


async def main() -> None:
    bucket: dict[str, StoredObject] = {}
    source = _check_protocol(PrefixedDictStore(bucket, "tenant-a/source/"))
    media = _check_protocol(PrefixedDictStore(bucket, "tenant-a/media/"))
    other_tenant = PrefixedDictStore(bucket, "tenant-b/media/")

    clock = ManualClock()
    queue = MemoryTaskQueue(clock=clock, rng=random.Random(1))
    service = JobService(
        jobs=MemoryJobStore(clock=clock),
        queue=queue,
        source=source,
        media=media,
        cache_index=MemoryImageCacheIndex(),
        keys=MemoryKeyStore(clock=clock),
        renditions=ByteLRU(max_bytes=1 << 20),
        ids=SequentialIdGenerator(),
        # Tiny limits so the example can show size routing without big files.
        limits=JobLimits(max_file_size=10_000, large_file_threshold=1_000),
    )

    await source.put_bytes("small.mp4", b"\x00" * 500, content_type="video/mp4")
    await source.put_bytes("big.mp4", b"\x00" * 5_000, content_type="video/mp4")
    await source.put_bytes("huge.mp4", b"\x00" * 50_000, content_type="video/mp4")

    # The transcode preflight reads the size through the adapter's stat() and routes.
    for name in ("small", "big"):
        request = decode_job_request(
            {"type": "video:transcode", "hash": f"clip-{name}", "source": f"{name}.mp4"}
        )
        job = (await service.create(request)).job
        print(f"{name}.mp4 -> queue {job.queue!r}, {job.max_retry} retries")

    for name, expected in (("huge", SourceTooLarge), ("missing", SourceMissing)):
        request = decode_job_request(
            {"type": "video:transcode", "hash": f"clip-{name}", "source": f"{name}.mp4"}
        )
        try:
            await service.create(request)
        except expected as refused:
            print(f"{name}.mp4 refused: {refused}")

    # Outputs of two tenants side by side in the one bucket.
    await media.put_bytes("videos/cl/clip-small/master.m3u8", b"#EXTM3U\n", content_type="x")
    await other_tenant.put_bytes("videos/cl/clip-small/master.m3u8", b"#EXTM3U\n", content_type="x")

    # A purge reaches only this store's prefix: tenant B's object of the same hash stays.
    await service.purge("clip-small")
    print("bucket after purge:")
    for name in sorted(bucket):
        print("  ", name)
    assert "tenant-b/media/videos/cl/clip-small/master.m3u8" in bucket
    assert "tenant-a/media/videos/cl/clip-small/master.m3u8" not in bucket


if __name__ == "__main__":
    asyncio.run(main())
