"""RateLimiter port: fixed-window request counting."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen


@frozen
class RateDecision:
    allowed: bool
    count: int
    retry_after_seconds: int


class RateLimiter(Protocol):
    async def hit(
        self, limiter: str, identity: str, limit: int, window_seconds: int
    ) -> RateDecision:
        """Count one request of ``identity`` in the current epoch-aligned window.

        Rejected requests count too. ``identity`` is already hashed by the caller (raw
        credentials never reach a backend). Backends that cannot be reached fail open.
        """
        ...
