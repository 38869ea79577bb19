"""What an attempt wrote to the media store, so that a cancelled attempt can take it back.

Workflows are built once and shared by every attempt, so the keys are collected in a
context variable: the runner opens a record around one attempt, and every task the
attempt starts (upload waves run in task groups) adds to that same record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from vylux_core.ports.object_store import ByteRange, ObjectInfo, ObjectReader, ObjectStore

_written: ContextVar[set[str] | None] = ContextVar("vylux_attempt_written", default=None)


@contextmanager
def recording_writes(keys: set[str]) -> Iterator[set[str]]:
    """Add to ``keys`` the keys that :class:`RecordingObjectStore` writes in this block."""
    token = _written.set(keys)
    try:
        yield keys
    finally:
        _written.reset(token)


def _note(key: str) -> None:
    keys = _written.get()
    if keys is not None:
        keys.add(key)


class RecordingObjectStore:
    """An ObjectStore that notes each key it writes in the current attempt's record
    (before the write, so a write cut off halfway is taken back too)."""

    def __init__(self, inner: ObjectStore) -> None:
        self._inner = inner

    async def stat(self, key: str) -> ObjectInfo:
        return await self._inner.stat(key)

    async def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        return await self._inner.open(key, byte_range)

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        return await self._inner.read_bytes(key, max_bytes=max_bytes)

    async def download(self, key: str, destination: Path) -> int:
        return await self._inner.download(key, destination)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        _note(key)
        await self._inner.put_bytes(
            key, data, content_type=content_type, cache_control=cache_control
        )

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        _note(key)
        await self._inner.upload_file(key, source, content_type=content_type)

    def list(self, prefix: str) -> AsyncIterator[str]:
        return self._inner.list(prefix)

    async def delete_many(self, keys: Iterable[str]) -> None:
        await self._inner.delete_many(keys)

    async def delete_prefix(self, prefix: str) -> int:
        return await self._inner.delete_prefix(prefix)

    async def ping(self) -> None:
        await self._inner.ping()
