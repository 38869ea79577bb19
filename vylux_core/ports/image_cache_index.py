"""ImageCacheIndex port: which cached /img renditions belong to a media hash."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen


@frozen
class CacheEntry:
    media_hash: str
    cache_key: str
    storage_key: str


class ImageCacheIndex(Protocol):
    async def record(self, entry: CacheEntry) -> None:
        """Upsert on ``(media_hash, storage_key)``; refreshes ``cache_key``. Idempotent."""
        ...

    async def list_by_hash(self, media_hash: str) -> list[CacheEntry]:
        """Every entry of the hash (any order)."""
        ...

    async def delete_by_hash(self, media_hash: str) -> int:
        """Delete the hash's entries; returns how many. Idempotent."""
        ...
