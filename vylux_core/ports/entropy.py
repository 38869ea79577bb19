"""Port for cryptographically secure randomness (content keys, key ids, GCM nonces)."""

from __future__ import annotations

from typing import Protocol


class Entropy(Protocol):
    """Source of secure random bytes.

    Randomness is a port so that the core stays deterministic under test (a counter-based
    fake yields reproducible keys and nonces) and never reaches for ``secrets`` itself.
    Unlike most ports this one is synchronous: reading the OS CSPRNG does not block on I/O,
    and the key ring calls it from plain (non-async) code.
    """

    def token_bytes(self, n: int) -> bytes:
        """Return exactly ``n`` cryptographically secure random bytes.

        Production adapters must use the OS CSPRNG (``secrets.token_bytes``). Calls never
        repeat output in practice; the key ring relies on that for GCM nonce uniqueness.
        ``n`` is never negative. Never raises for ``n >= 0``.
        """
        ...
