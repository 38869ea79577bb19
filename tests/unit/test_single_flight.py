"""SingleFlight: concurrent identical calls share one run; nothing is cached afterwards."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from vylux_core.images.single_flight import SingleFlight


class Work:
    """A countable unit of work that waits at a gate, then returns (or raises)."""

    def __init__(self, result: str = "done", error: Exception | None = None) -> None:
        self.result = result
        self.error = error
        self.runs = 0
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.finished = False

    async def __call__(self) -> str:
        self.runs += 1
        self.entered.set()
        await self.gate.wait()
        self.finished = True
        if self.error is not None:
            raise self.error
        return self.result


async def _settle() -> None:
    """Let every ready task take its next step (yields the loop, does not sleep)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_concurrent_calls_for_one_key_share_one_run() -> None:
    flights: SingleFlight[str] = SingleFlight()
    work = Work("shared")
    callers = [asyncio.create_task(flights.run("k", work)) for _ in range(20)]
    await work.entered.wait()
    await _settle()
    assert len(flights) == 1

    work.gate.set()
    results = await asyncio.gather(*callers)

    assert results == ["shared"] * 20
    assert work.runs == 1
    assert len(flights) == 0


async def test_distinct_keys_run_separately_and_concurrently() -> None:
    flights: SingleFlight[str] = SingleFlight()
    one, two = Work("one"), Work("two")
    first = asyncio.create_task(flights.run("a", one))
    second = asyncio.create_task(flights.run("b", two))
    await one.entered.wait()
    await two.entered.wait()
    assert len(flights) == 2

    one.gate.set()
    two.gate.set()

    assert list(await asyncio.gather(first, second)) == ["one", "two"]
    assert (one.runs, two.runs) == (1, 1)


async def test_an_exception_reaches_every_waiter_from_one_run() -> None:
    flights: SingleFlight[str] = SingleFlight()
    work = Work(error=RuntimeError("boom"))
    callers = [asyncio.create_task(flights.run("k", work)) for _ in range(3)]
    await work.entered.wait()
    await _settle()
    work.gate.set()

    results = await asyncio.gather(*callers, return_exceptions=True)

    assert [type(r) for r in results] == [RuntimeError] * 3
    assert work.runs == 1
    assert len(flights) == 0


@pytest.mark.parametrize(
    "error", [pytest.param(None, id="after-success"), pytest.param(ValueError(), id="after-error")]
)
async def test_nothing_is_remembered_after_a_flight_ends(error: Exception | None) -> None:
    flights: SingleFlight[str] = SingleFlight()
    work = Work(error=error)
    work.gate.set()
    for _ in range(2):
        with contextlib.suppress(ValueError):
            await flights.run("k", work)
    assert work.runs == 2


async def test_a_cancelled_waiter_does_not_cancel_the_work() -> None:
    flights: SingleFlight[str] = SingleFlight()
    work = Work("survived")
    starter = asyncio.create_task(flights.run("k", work))
    await work.entered.wait()
    joiner = asyncio.create_task(flights.run("k", work))
    await _settle()

    starter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starter
    work.gate.set()

    assert await joiner == "survived"
    assert work.runs == 1
    assert work.finished


async def test_work_outlives_its_only_cancelled_waiter() -> None:
    flights: SingleFlight[str] = SingleFlight()
    work = Work("late")
    only = asyncio.create_task(flights.run("k", work))
    await work.entered.wait()
    only.cancel()
    with pytest.raises(asyncio.CancelledError):
        await only

    # A caller arriving while the orphaned run is still going joins it.
    late = asyncio.create_task(flights.run("k", work))
    await _settle()
    work.gate.set()

    assert await late == "late"
    assert work.runs == 1
