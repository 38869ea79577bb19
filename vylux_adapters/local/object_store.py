"""LocalDirObjectStore: the ObjectStore port on a directory (the embedded profile)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from vylux_adapters.local import files
from vylux_adapters.local.layout import ObjectLocation, fits_in_a_key, locate, prefix_scan
from vylux_adapters.object_reads import download_to, read_capped
from vylux_core.errors import InvalidStorageKey
from vylux_core.ports.object_store import ByteRange, ObjectInfo

CHUNK_SIZE = 1024 * 1024


class LocalObjectReader:
    """An open object file; reads ``length`` bytes from its position in bounded chunks."""

    def __init__(self, *, info: ObjectInfo, handle: BinaryIO, length: int, chunk_size: int) -> None:
        self._info = info
        self._handle = handle
        self._remaining = length
        self._chunk_size = chunk_size
        self._closed = False

    @property
    def info(self) -> ObjectInfo:
        return self._info

    async def chunks(self) -> AsyncIterator[bytes]:
        while self._remaining > 0:
            want = min(self._chunk_size, self._remaining)
            with files.file_errors("read"):
                chunk = await asyncio.to_thread(self._handle.read, want)
            if not chunk:
                return  # truncated behind our back; the caller sees a short body
            self._remaining -= len(chunk)
            yield chunk

    async def readinto(self, buffer: memoryview) -> int:
        if self._remaining == 0:
            return 0  # the range is read: no file call needed to say so
        # One worker-thread call for the whole buffer: the kernel copies straight into
        # it, with no chunk objects and no event-loop work per chunk.
        with files.file_errors("read"):
            filled = await asyncio.to_thread(_fill, self._handle, buffer[: self._remaining])
        self._remaining -= filled
        return filled

    async def read_all(self) -> bytes:
        """The rest of the range in one read into one buffer (not chunks joined into
        a second copy): for objects whose size was checked."""
        with files.file_errors("read"):
            data = await asyncio.to_thread(self._handle.read, self._remaining)
        self._remaining -= len(data)
        return data

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await asyncio.to_thread(self._handle.close)


def _fill(handle: BinaryIO, buffer: memoryview) -> int:
    filled = 0
    while filled < len(buffer):
        count = handle.readinto(buffer[filled:])  # type: ignore[attr-defined]
        if not count:
            break  # truncated behind our back; the caller sees a short read
        filled += count
    return filled


class LocalDirObjectStore:
    """Objects as files below ``root`` (layout in ``vylux_adapters.local.layout``).

    Writes go to a temp file in the target directory and are renamed into place;
    all file I/O runs in threads. ``root`` must exist: it is never created here.
    Files dropped into ``root`` by hand are objects too (without a content type).
    """

    def __init__(self, *, root: Path, chunk_size: int = CHUNK_SIZE) -> None:
        self._root = root
        self._chunk_size = chunk_size

    @property
    def root(self) -> Path:
        return self._root

    async def stat(self, key: str) -> ObjectInfo:
        location = locate(key)
        with files.file_errors("stat", key):
            size, content_type = await asyncio.to_thread(files.stat_object, self._root, location)
        return ObjectInfo(key=key, size=size, content_type=content_type)

    async def open(self, key: str, byte_range: ByteRange | None = None) -> LocalObjectReader:
        location = locate(key)
        with files.file_errors("open", key):
            handle, size, length, content_type = await asyncio.to_thread(
                files.open_object, self._root, location, byte_range
            )
        info = ObjectInfo(key=key, size=size, content_type=content_type)
        return LocalObjectReader(
            info=info, handle=handle, length=length, chunk_size=self._chunk_size
        )

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        return await read_capped(await self.open(key), max_bytes)

    async def download(self, key: str, destination: Path) -> int:
        reader = await self.open(key)  # ObjectNotFound before the file is touched
        return await download_to(reader, destination)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        location = locate(key)
        meta = {"content_type": content_type}
        if cache_control is not None:
            meta["cache_control"] = cache_control
        with files.file_errors("put_bytes"):
            await asyncio.to_thread(
                files.write_object, self._root, location, files.write_bytes(data), meta
            )

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        location = locate(key)
        # A missing source is the caller's error: it propagates as the OSError it is.
        handle = await asyncio.to_thread(source.open, "rb")
        try:
            with files.file_errors("upload_file"):
                await asyncio.to_thread(
                    files.write_object,
                    self._root,
                    location,
                    files.copy_from(handle),
                    {"content_type": content_type},
                )
        finally:
            await asyncio.to_thread(handle.close)

    async def list(self, prefix: str) -> AsyncIterator[str]:
        start = prefix_scan(prefix)
        if start is None:
            return
        directories, key_prefix, partial = start
        async for key in self._walk(directories, key_prefix, partial):
            yield key

    async def _walk(
        self, directories: tuple[str, ...], key_prefix: str, partial: str
    ) -> AsyncIterator[str]:
        # One directory read at a time, in key order: the listing is as lazy as the walk.
        with files.file_errors("list"):
            entries = await asyncio.to_thread(files.scan, self._root, directories)
        for segment, is_directory in entries:
            if not segment.startswith(partial):
                continue
            key = key_prefix + segment
            if is_directory:
                if fits_in_a_key(f"{key}/x"):  # else no key below it is valid
                    async for below in self._walk((*directories, segment), f"{key}/", ""):
                        yield below
            elif fits_in_a_key(key):
                yield key

    async def delete_many(self, keys: Iterable[str]) -> None:
        await self._delete([locate(key) for key in keys])

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise InvalidStorageKey("refusing to delete with an empty prefix")
        keys = [key async for key in self.list(prefix)]
        return await self._delete([locate(key) for key in keys])

    async def ping(self) -> None:
        with files.file_errors("ping"):
            await asyncio.to_thread(files.probe_writable, self._root)

    async def _delete(self, doomed: Sequence[ObjectLocation]) -> int:
        with files.file_errors("delete"):
            return await asyncio.to_thread(files.delete_objects, self._root, doomed)
