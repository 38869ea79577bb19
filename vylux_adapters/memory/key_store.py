"""MemoryKeyStore: the KeyStore port on a dict."""

from __future__ import annotations

import attrs

from vylux_core.ports.clock import Clock
from vylux_core.ports.key_store import StoredKey
from vylux_core.security.key_ring import WrappedKey, is_current_wrapping


class MemoryKeyStore:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._keys: dict[str, StoredKey] = {}

    async def get(self, media_hash: str) -> StoredKey | None:
        return self._keys.get(media_hash)

    async def put_if_absent(self, key: StoredKey) -> StoredKey:
        existing = self._keys.get(key.media_hash)
        if existing is not None:
            return existing
        stored = attrs.evolve(key, created_at=self._clock.now())
        self._keys[key.media_hash] = stored
        return stored

    async def replace_wrapping(self, media_hash: str, old: WrappedKey, new: WrappedKey) -> bool:
        existing = self._keys.get(media_hash)
        if existing is None or existing.wrapped != old:
            return False
        self._keys[media_hash] = attrs.evolve(existing, wrapped=new)
        return True

    async def list_for_rewrap(
        self, current_version: str, after_hash: str, limit: int
    ) -> list[StoredKey]:
        candidates = sorted(
            (
                key
                for media_hash, key in self._keys.items()
                if media_hash > after_hash and not is_current_wrapping(key.wrapped, current_version)
            ),
            key=lambda key: key.media_hash,
        )
        return candidates[:limit]

    async def delete(self, media_hash: str) -> bool:
        return self._keys.pop(media_hash, None) is not None
