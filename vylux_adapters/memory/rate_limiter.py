"""MemoryRateLimiter: fixed-window counters for one process (the embedded profile)."""

from __future__ import annotations

from vylux_core.ports.clock import Clock
from vylux_core.ports.rate_limiter import RateDecision


class MemoryRateLimiter:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, str, int], int] = {}

    async def hit(
        self, limiter: str, identity: str, limit: int, window_seconds: int
    ) -> RateDecision:
        now = self._clock.now().timestamp()
        window = int(now // window_seconds)
        # Drop finished windows so the dict holds at most the live ones.
        for key in [key for key in self._counts if key[2] < window]:
            del self._counts[key]
        key = (limiter, identity, window)
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        retry_after = max(1, int((window + 1) * window_seconds - now + 0.999))
        return RateDecision(allowed=count <= limit, count=count, retry_after_seconds=retry_after)
