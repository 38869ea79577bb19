"""KeyService: content keys for encrypted HLS — issued to the packager, delivered to players."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from vylux_core.errors import KeyNotFound, Unauthorized
from vylux_core.ports.clock import Clock
from vylux_core.ports.key_store import KeyStore, StoredKey
from vylux_core.security.key_ring import ContentKey, KeyRing
from vylux_core.security.key_token import verify_key_token

BEARER_PREFIX = "Bearer "
SCHEME = "cbcs"


class KeyService:
    def __init__(
        self, *, keys: KeyStore, ring: KeyRing, token_secret: str, base_url: str, clock: Clock
    ) -> None:
        self._keys = keys
        self._ring = ring
        self._token_secret = token_secret
        self._base_url = base_url.rstrip("/")
        self._clock = clock

    def key_uri(self, media_hash: str) -> str:
        """``BASE_URL/api/key/{hash}`` (relative when BASE_URL is empty)."""
        return f"{self._base_url}/api/key/{media_hash}"

    async def content_key_for(self, media_hash: str) -> tuple[ContentKey, str]:
        """The hash's content key and key URI, creating and storing one if needed.

        A re-run reuses the stored key, so segments already published stay playable
        (D18).
        """
        stored = await self._keys.get(media_hash)
        if stored is None:
            fresh = self._ring.new_content_key()
            candidate = StoredKey(
                media_hash=media_hash,
                wrapped=self._ring.wrap(media_hash, fresh.key),
                kid=fresh.kid_hex,
                scheme=SCHEME,
                key_uri=self.key_uri(media_hash),
            )
            # Two runs racing for one hash both end up with whichever key was stored.
            stored = await self._keys.put_if_absent(candidate)
        key = self._unwrap(media_hash, stored)
        return ContentKey(key=key, kid=bytes.fromhex(stored.kid)), stored.key_uri

    async def deliver(self, media_hash: str, authorization: str | None) -> bytes:
        """The 16 raw key bytes for a player holding a valid token.

        Raises ``Unauthorized`` (no bearer token, 401), ``InvalidKeyToken`` (403),
        ``KeyNotFound`` (404) and ``KeyUnwrapFailed`` (500).
        """
        stored = await self._authorized(media_hash, authorization)
        return self._unwrap(media_hash, stored)

    async def deliver_clearkey(
        self, media_hash: str, authorization: str | None, kids: Sequence[bytes]
    ) -> tuple[ContentKey, ...]:
        """The hash's content key for a W3C Clear Key licence, if ``kids`` names its KID.

        Same token check and errors as :meth:`deliver`. Every hash has one key (the
        packager gets ``label=`` for all tracks), so the answer holds at most one key; a
        request naming only other KIDs raises ``KeyNotFound``: no key of another hash is
        ever served under this hash's token.
        """
        stored = await self._authorized(media_hash, authorization)
        kid = bytes.fromhex(stored.kid)
        if kid not in kids:
            raise KeyNotFound("no key for the requested key ids")
        return (ContentKey(key=self._unwrap(media_hash, stored), kid=kid),)

    async def _authorized(self, media_hash: str, authorization: str | None) -> StoredKey:
        if not authorization or not authorization.startswith(BEARER_PREFIX):
            raise Unauthorized("missing bearer token")
        token = authorization[len(BEARER_PREFIX) :]
        if not token:
            raise Unauthorized("missing bearer token")
        now = int(self._clock.now().timestamp())
        verify_key_token(self._token_secret, token, media_hash, now)
        stored = await self._keys.get(media_hash)
        if stored is None:
            raise KeyNotFound("no key for this media")
        return stored

    def _unwrap(self, media_hash: str, stored: StoredKey) -> bytes:
        # Bind the AAD to the hash asked for, not the one the stored value names: a value
        # copied onto another hash's row must fail (KeyUnwrapFailed), not serve its key.
        return self._ring.unwrap(attrs.evolve(stored.wrapped, media_hash=media_hash))
