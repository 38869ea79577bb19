"""ByteBudget: reservations wait for room in order, time out as Overloaded, and always
give their bytes back (on release, on an exception in the block, on cancellation)."""

from __future__ import annotations

import asyncio

import pytest

from vylux_core.errors import Overloaded, Unavailable
from vylux_core.images.byte_budget import ByteBudget, Reservation

# Long enough never to expire on a busy machine where a test means "it waits".
PATIENT = 60.0


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def budget_holding(size: int) -> tuple[ByteBudget, Reservation]:
    """A 100-byte budget of which ``size`` bytes are already taken."""
    budget = ByteBudget(100, wait_seconds=PATIENT)
    return budget, await budget.acquire(size)


async def queued(budget: ByteBudget, size: int) -> asyncio.Task[Reservation]:
    """A reservation that has joined the budget's queue (it runs until it waits)."""
    waiting = asyncio.create_task(budget.acquire(size))
    await settle()
    return waiting


async def test_reservations_that_fit_are_taken_at_once_and_given_back() -> None:
    budget = ByteBudget(100, wait_seconds=PATIENT)
    first = await budget.acquire(60)
    second = await budget.acquire(40)
    assert budget.available == 0
    first.release()
    first.release()  # idempotent
    assert budget.available == 60
    second.release()
    assert budget.available == 100


async def test_a_reservation_that_does_not_fit_waits_until_bytes_are_released() -> None:
    budget, held = await budget_holding(80)
    waiting = await queued(budget, 50)
    assert not waiting.done()
    assert budget.waiting == 1
    held.release()
    reservation = await asyncio.wait_for(waiting, PATIENT)
    assert (reservation.size, budget.available) == (50, 50)


async def test_waiters_are_served_first_come_first_served() -> None:
    budget, held = await budget_holding(100)
    large = await queued(budget, 90)
    small = await queued(budget, 10)
    # The small one would fit beside nothing, but the large one came first.
    assert not small.done()
    held.release()
    await asyncio.wait_for(asyncio.gather(large, small), PATIENT)
    assert budget.available == 0


async def test_a_waiter_times_out_as_overloaded_with_a_retry_after() -> None:
    budget = ByteBudget(100, wait_seconds=0.01)
    held = await budget.acquire(100)
    with pytest.raises(Overloaded) as caught:
        await budget.acquire(1)
    assert isinstance(caught.value, Unavailable)
    assert caught.value.retry_after_seconds == 1
    assert (budget.available, budget.waiting) == (0, 0)
    held.release()
    assert budget.available == 100


async def test_a_head_that_gives_up_lets_smaller_waiters_behind_it_in() -> None:
    budget, held = await budget_holding(50)
    large = await queued(budget, 100)
    small = await queued(budget, 10)
    assert not small.done()
    large.cancel()
    reservation = await asyncio.wait_for(small, PATIENT)
    assert reservation.size == 10
    held.release()
    assert budget.available == 90


async def test_a_cancelled_waiter_takes_nothing() -> None:
    budget, held = await budget_holding(100)
    waiting = await queued(budget, 30)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert budget.waiting == 0
    held.release()
    assert budget.available == 100


async def test_a_waiter_cancelled_after_being_granted_gives_the_bytes_back() -> None:
    budget, held = await budget_holding(100)
    waiting = await queued(budget, 30)
    held.release()  # grants the waiter before it runs again...
    waiting.cancel()  # ...and it is cancelled before it sees the grant
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert budget.available == 100


async def test_the_context_manager_releases_on_an_exception() -> None:
    budget = ByteBudget(100, wait_seconds=PATIENT)
    seen: list[int] = []

    async def failing_render() -> None:
        async with budget.reserve(70):
            seen.append(budget.available)
            raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        await failing_render()
    assert (seen, budget.available) == ([30], 100)


async def test_a_reservation_larger_than_the_budget_takes_all_of_it_and_runs_alone() -> None:
    budget = ByteBudget(100, wait_seconds=PATIENT)
    async with budget.reserve(500) as reservation:
        assert (reservation.size, budget.available) == (100, 0)
    assert budget.available == 100


def test_an_empty_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        ByteBudget(0, wait_seconds=1)
