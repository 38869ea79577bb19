"""KeyStore port: wrapped content keys of encrypted media, one per media hash."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from attrs import frozen

from vylux_core.security.key_ring import WrappedKey


@frozen(kw_only=True)
class StoredKey:
    """A wrapped content key with what playback needs (never the plain key)."""

    media_hash: str
    wrapped: WrappedKey
    kid: str
    scheme: str
    key_uri: str
    created_at: datetime | None = None


class KeyStore(Protocol):
    async def get(self, media_hash: str) -> StoredKey | None:
        """The key of the hash, or None."""
        ...

    async def put_if_absent(self, key: StoredKey) -> StoredKey:
        """Store ``key`` unless the hash has one; return whichever is stored.

        A re-run of an encrypted transcode reuses the stored key, so segments already
        served with it stay playable (D18).
        """
        ...

    async def replace_wrapping(self, media_hash: str, old: WrappedKey, new: WrappedKey) -> bool:
        """Swap the wrapping if it is still ``old`` (compare-and-set for key rotation)."""
        ...

    async def list_for_rewrap(
        self, current_version: str, after_hash: str, limit: int
    ) -> list[StoredKey]:
        """Keys not wrapped in the current scheme/version, hash > ``after_hash``, ascending.

        Lets rotation run in resumable batches.
        """
        ...

    async def delete(self, media_hash: str) -> bool:
        """Delete the hash's key; True if one existed. Idempotent."""
        ...
