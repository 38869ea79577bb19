"""ObjectStore port: a bucket of objects (used twice: the source and the media store)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Protocol

from attrs import frozen


@frozen(kw_only=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str | None = None


@frozen
class ByteRange:
    """Inclusive byte offsets, as in an HTTP ``Range`` header; ``end=None`` = to the end."""

    start: int
    end: int | None = None


class ObjectReader(Protocol):
    """An opened object: its metadata is known before the first chunk is read."""

    @property
    def info(self) -> ObjectInfo:
        """Size and type of the whole object (not of the range)."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The bytes (of the range, if one was asked for) in bounded chunks."""
        ...

    async def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` with the next bytes (of the range) and return how many were
        written: fewer than ``len(buffer)`` only where the object ends first, 0 at its
        end. For reading a whole object into memory without a chunk per round trip."""
        ...

    async def aclose(self) -> None:
        """Release the connection; safe to call twice."""
        ...


class ObjectStore(Protocol):
    """Keys are opaque strings. Every method raises ``StorageUnavailable`` when the
    backend cannot be reached, and ``InvalidStorageKey`` for keys it cannot hold."""

    async def stat(self, key: str) -> ObjectInfo:
        """Metadata of the object; raises ``ObjectNotFound``."""
        ...

    async def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        """Open for streaming; raises ``ObjectNotFound`` before any byte is read, and
        ``InvalidInput`` for a range that starts past the end. The caller closes it."""
        ...

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        """The whole object, for small objects only: raises ``SourceTooLarge`` when
        it is bigger than ``max_bytes`` (checked before reading)."""
        ...

    async def download(self, key: str, destination: Path) -> int:
        """Stream the object into a new file at ``destination``; returns its size.
        A partial file is removed on failure."""
        ...

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        """Create or replace the object atomically (readers see old or new, not half)."""
        ...

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        """Create or replace the object from a local file (multipart when large)."""
        ...

    def list(self, prefix: str) -> AsyncIterator[str]:
        """Keys starting with ``prefix``, ascending, paginating as needed."""
        ...

    async def delete_many(self, keys: Iterable[str]) -> None:
        """Delete these keys; missing ones are ignored (idempotent)."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix`` (which must be non-empty); returns how many."""
        ...

    async def ping(self) -> None:
        """Cheap reachability check; raises ``StorageUnavailable``."""
        ...
