"""RateLimiter contract: fixed, epoch-aligned windows per limiter and identity."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from tests.support.redis import redis_client, redis_prefix
from vylux_adapters.memory import ManualClock, MemoryRateLimiter
from vylux_adapters.redis import RedisRateLimiter
from vylux_core.ports.rate_limiter import RateDecision, RateLimiter

RateLimiterFactory = Callable[[ManualClock], AbstractAsyncContextManager[RateLimiter]]


@asynccontextmanager
async def memory_rate_limiter(clock: ManualClock) -> AsyncIterator[RateLimiter]:
    yield MemoryRateLimiter(clock=clock)


@asynccontextmanager
async def redis_rate_limiter(clock: ManualClock) -> AsyncIterator[RateLimiter]:
    # A fresh key prefix per test, deleted afterwards: the counters of one test (whose
    # windows follow the simulated clock) never meet another's.
    async with redis_client() as client, redis_prefix(client) as prefix:
        yield RedisRateLimiter(client, clock, prefix=prefix)


RATE_LIMITER_FACTORIES = [
    pytest.param(memory_rate_limiter, id="memory"),
    pytest.param(redis_rate_limiter, id="redis", marks=pytest.mark.redis),
]


@pytest.fixture(params=RATE_LIMITER_FACTORIES)
async def limiter(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[RateLimiter]:
    factory: RateLimiterFactory = request.param
    async with factory(clock) as adapter:
        yield adapter


LIMIT = 3
WINDOW = 60


def seconds_into_window(clock: ManualClock, window: int = WINDOW) -> float:
    return clock.now().timestamp() % window


async def hits(limiter: RateLimiter, n: int, identity: str = "id-a") -> list[RateDecision]:
    return [await limiter.hit("api", identity, LIMIT, WINDOW) for _ in range(n)]


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(0, id="window-start"),
        pytest.param(15, id="mid-window"),
        pytest.param(59.5, id="last-second"),
    ],
)
async def test_limit_hits_pass_then_the_next_are_rejected(
    limiter: RateLimiter, clock: ManualClock, offset: float
) -> None:
    assert seconds_into_window(clock) == 0  # the fixture clock starts on a boundary
    clock.advance(offset)

    decisions = await hits(limiter, LIMIT + 2)

    assert [(d.allowed, d.count) for d in decisions] == [
        (True, 1),
        (True, 2),
        (True, 3),
        (False, 4),  # rejected requests count too
        (False, 5),
    ]
    for rejected in decisions[LIMIT:]:
        assert 1 <= rejected.retry_after_seconds <= WINDOW
        # Waiting retry_after lands in the next window.
        assert offset + rejected.retry_after_seconds >= WINDOW


async def test_waiting_retry_after_is_enough(limiter: RateLimiter, clock: ManualClock) -> None:
    clock.advance(20)
    rejected = (await hits(limiter, LIMIT + 1))[-1]
    assert not rejected.allowed

    clock.advance(rejected.retry_after_seconds)

    after = await limiter.hit("api", "id-a", LIMIT, WINDOW)
    assert (after.allowed, after.count) == (True, 1)


async def test_next_epoch_aligned_window_resets_the_count(
    limiter: RateLimiter, clock: ManualClock
) -> None:
    clock.advance(50)
    assert not (await hits(limiter, LIMIT + 1))[-1].allowed

    clock.advance(9)  # still the same window
    assert not (await hits(limiter, 1))[0].allowed
    clock.advance(1)  # the next window starts on the epoch-aligned boundary

    decisions = await hits(limiter, LIMIT + 1)

    assert [(d.allowed, d.count) for d in decisions] == [
        (True, 1),
        (True, 2),
        (True, 3),
        (False, 4),
    ]


@pytest.mark.parametrize(
    ("other_limiter", "other_identity"),
    [
        pytest.param("api", "id-b", id="other-identity"),
        pytest.param("img", "id-a", id="other-limiter"),
        pytest.param("img", "id-b", id="both-differ"),
    ],
)
async def test_limiters_and_identities_count_separately(
    limiter: RateLimiter, other_limiter: str, other_identity: str
) -> None:
    assert not (await hits(limiter, LIMIT + 1))[-1].allowed

    other = await limiter.hit(other_limiter, other_identity, LIMIT, WINDOW)

    assert (other.allowed, other.count) == (True, 1)
    again = await limiter.hit("api", "id-a", LIMIT, WINDOW)
    assert (again.allowed, again.count) == (False, LIMIT + 2)
