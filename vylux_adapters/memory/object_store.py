"""MemoryObjectStore: the ObjectStore port on a dict of bytes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from attrs import frozen

from vylux_core.errors import InvalidInput, InvalidStorageKey, ObjectNotFound, SourceTooLarge
from vylux_core.ports.object_store import ByteRange, ObjectInfo

CHUNK_SIZE = 64 * 1024


@frozen
class _StoredObject:
    data: bytes
    content_type: str | None
    cache_control: str | None


class MemoryObjectReader:
    def __init__(self, info: ObjectInfo, data: bytes) -> None:
        self._info = info
        self._data = data
        self._position = 0

    @classmethod
    def opened(
        cls, key: str, data: bytes, content_type: str | None, byte_range: ByteRange | None
    ) -> MemoryObjectReader:
        """``data`` opened as ``ObjectStore.open`` opens an object: the info describes the
        whole object, the reader reads the range."""
        info = ObjectInfo(key=key, size=len(data), content_type=content_type)
        if byte_range is not None:
            if byte_range.start >= len(data):
                raise InvalidInput("range starts past the end of the object")
            end = len(data) - 1 if byte_range.end is None else min(byte_range.end, len(data) - 1)
            data = data[byte_range.start : end + 1]
        return cls(info, data)

    @property
    def info(self) -> ObjectInfo:
        return self._info

    async def chunks(self) -> AsyncIterator[bytes]:
        while self._position < len(self._data):
            chunk = self._data[self._position : self._position + CHUNK_SIZE]
            self._position += len(chunk)
            yield chunk

    async def readinto(self, buffer: memoryview) -> int:
        chunk = self._data[self._position : self._position + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)

    async def aclose(self) -> None:
        return None


class MemoryObjectStore:
    def __init__(self) -> None:
        self._objects: dict[str, _StoredObject] = {}

    async def stat(self, key: str) -> ObjectInfo:
        stored = self._get(key)
        return ObjectInfo(key=key, size=len(stored.data), content_type=stored.content_type)

    async def open(self, key: str, byte_range: ByteRange | None = None) -> MemoryObjectReader:
        stored = self._get(key)
        return MemoryObjectReader.opened(key, stored.data, stored.content_type, byte_range)

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        stored = self._get(key)
        if len(stored.data) > max_bytes:
            raise SourceTooLarge(max_bytes)
        return stored.data

    async def download(self, key: str, destination: Path) -> int:
        stored = self._get(key)
        # Test-sized objects; a thread keeps the event loop free all the same.
        await asyncio.to_thread(destination.write_bytes, stored.data)
        return len(stored.data)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        self._objects[_checked(key)] = _StoredObject(bytes(data), content_type, cache_control)

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        data = await asyncio.to_thread(source.read_bytes)
        self._objects[_checked(key)] = _StoredObject(data, content_type, None)

    async def list(self, prefix: str) -> AsyncIterator[str]:
        for key in sorted(self._objects):
            if key.startswith(prefix):
                yield key

    async def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._objects.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise InvalidStorageKey("refusing to delete with an empty prefix")
        doomed = [key for key in self._objects if key.startswith(prefix)]
        for key in doomed:
            del self._objects[key]
        return len(doomed)

    async def ping(self) -> None:
        return None

    def _get(self, key: str) -> _StoredObject:
        try:
            return self._objects[_checked(key)]
        except KeyError:
            raise ObjectNotFound(f"object not found: {key}") from None


def _checked(key: str) -> str:
    if not key or "\x00" in key:
        raise InvalidStorageKey("object keys must be non-empty and contain no NUL")
    return key
