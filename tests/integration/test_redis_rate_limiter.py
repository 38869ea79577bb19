"""RedisRateLimiter beyond its port: the reference's key layout and TTL, and failing open."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio

from tests.support.redis import redis_client
from vylux_adapters.memory import ManualClock
from vylux_adapters.redis import RedisRateLimiter

WINDOW = 60


def hash16(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def random_minute_clock() -> ManualClock:
    # A random whole minute in 2030–2040: the default "ratelimit" prefix is shared,
    # so a random bucket keeps parallel runs on one Redis apart.
    minute = secrets.randbelow(10 * 365 * 24 * 60) + 31_557_600  # minutes since epoch
    return ManualClock(datetime.fromtimestamp(minute * WINDOW, tz=UTC))


@pytest.fixture
async def client() -> AsyncIterator[redis.asyncio.Redis]:
    async with redis_client() as connected:
        yield connected


@pytest.mark.redis
async def test_key_is_prefix_limiter_hashed_identity_and_epoch_bucket(
    client: redis.asyncio.Redis,
) -> None:
    clock = random_minute_clock()
    clock.advance(42)  # mid-window: the bucket is still the floor
    identity = hash16("test-api-key")
    assert identity == "4c806362b613f749"
    bucket = int(clock.now().timestamp()) // WINDOW
    key = f"ratelimit:jobs:4c806362b613f749:{bucket}"
    limiter = RedisRateLimiter(client, clock)
    try:
        first = await limiter.hit("jobs", identity, 30, WINDOW)
        second = await limiter.hit("jobs", identity, 30, WINDOW)

        assert (first.count, second.count) == (1, 2)
        assert await client.get(key) == b"2"
        ttl = await client.ttl(key)
        assert 0 < ttl <= WINDOW + 5
        assert first.retry_after_seconds == WINDOW - 42
    finally:
        await client.delete(key)


@pytest.mark.redis
async def test_rejected_hits_still_count(client: redis.asyncio.Redis) -> None:
    clock = random_minute_clock()
    identity = f"token:{secrets.token_hex(8)}"
    limiter = RedisRateLimiter(client, clock)
    key = limiter.key("key", identity, int(clock.now().timestamp()) // WINDOW)
    try:
        decisions = [await limiter.hit("key", identity, 2, WINDOW) for _ in range(4)]

        assert [d.allowed for d in decisions] == [True, True, False, False]
        assert await client.get(key) == b"4"
    finally:
        await client.delete(key)


async def test_unreachable_redis_fails_open_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis.asyncio.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=1, socket_timeout=1
    )
    clock = ManualClock()
    limiter = RedisRateLimiter(client, clock)
    try:
        with caplog.at_level(logging.WARNING, logger="vylux_adapters.redis.rate_limiter"):
            decisions = [await limiter.hit("jobs", "id", 1, WINDOW) for _ in range(3)]
            clock.advance(61)
            later = await limiter.hit("jobs", "id", 1, WINDOW)
    finally:
        await client.aclose()

    assert all(d.allowed for d in [*decisions, later])
    warnings = [r for r in caplog.records if "failing open" in r.getMessage()]
    assert len(warnings) == 2  # once at the start of the outage, once a minute later
