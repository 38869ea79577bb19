"""MemoryImageCacheIndex: the ImageCacheIndex port on a dict."""

from __future__ import annotations

from vylux_core.ports.image_cache_index import CacheEntry


class MemoryImageCacheIndex:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], CacheEntry] = {}

    async def record(self, entry: CacheEntry) -> None:
        self._entries[(entry.media_hash, entry.storage_key)] = entry

    async def list_by_hash(self, media_hash: str) -> list[CacheEntry]:
        return [entry for (owner, _), entry in self._entries.items() if owner == media_hash]

    async def delete_by_hash(self, media_hash: str) -> int:
        doomed = [key for key in self._entries if key[0] == media_hash]
        for key in doomed:
            del self._entries[key]
        return len(doomed)
