"""RedisRateLimiter: the RateLimiter port as a Redis fixed window (http-api §4.4).

One key per limiter, identity and window: ``<prefix>:<limiter>:<identity>:<bucket>`` with
``bucket = floor(unix_now / window)``, e.g. ``ratelimit:jobs:4c806362b613f749:29412345``.
Each hit runs ``INCR`` and ``EXPIRE window+5`` in one MULTI/EXEC, so every counter
expires shortly after its window even if the process dies between the two commands.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

import redis.asyncio
from redis.exceptions import RedisError

from vylux_core.ports.clock import Clock
from vylux_core.ports.rate_limiter import RateDecision

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "ratelimit"
# The key outlives its window a little, so a request at the window's last instant
# still finds its counter (a 60 s window expires after 65 s).
EXPIRY_GRACE_SECONDS = 5
# An outage fails every request open; one warning per minute says so without flooding.
OUTAGE_LOG_INTERVAL_SECONDS = 60.0


class RedisRateLimiter:
    """Fails open: when Redis cannot be reached (or answers with an error) the request
    is allowed, with ``count=0``; the outage is logged at most once a minute."""

    def __init__(
        self, client: redis.asyncio.Redis, clock: Clock, prefix: str = DEFAULT_PREFIX
    ) -> None:
        self._client = client
        self._clock = clock
        self._prefix = prefix
        self._last_outage_log: datetime | None = None

    def key(self, limiter: str, identity: str, bucket: int) -> str:
        return f"{self._prefix}:{limiter}:{identity}:{bucket}"

    async def hit(
        self, limiter: str, identity: str, limit: int, window_seconds: int
    ) -> RateDecision:
        now = self._clock.now().timestamp()
        bucket = math.floor(now / window_seconds)
        key = self.key(limiter, identity, bucket)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window_seconds + EXPIRY_GRACE_SECONDS)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            self._log_outage(error)
            return RateDecision(allowed=True, count=0, retry_after_seconds=0)
        # Seconds until the next window starts, rounded up so that waiting them is enough.
        retry_after = max(1, math.ceil((bucket + 1) * window_seconds - now))
        return RateDecision(
            allowed=int(count) <= limit, count=int(count), retry_after_seconds=retry_after
        )

    def _log_outage(self, error: BaseException) -> None:
        now = self._clock.now()
        last = self._last_outage_log
        if last is not None and (now - last).total_seconds() < OUTAGE_LOG_INTERVAL_SECONDS:
            return
        self._last_outage_log = now
        # The type only: client messages can carry host names, and a URL a password.
        logger.warning("rate limiter failing open: Redis error %s", type(error).__name__)
