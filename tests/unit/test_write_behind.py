"""WriteBehind: background writes that are awaited on drain, logged on failure, bounded."""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging

import pytest

from vylux_core.images.write_behind import WriteBehind


class Sink:
    """Collects what the background writes stored; ``gate`` holds them until set."""

    def __init__(self, *, open_gate: bool = True) -> None:
        self.written: list[str] = []
        self.gate = asyncio.Event()
        if open_gate:
            self.gate.set()

    async def write(self, value: str) -> None:
        await self.gate.wait()
        self.written.append(value)

    async def fail(self, message: str) -> None:
        await self.gate.wait()
        raise OSError(message)


async def test_submitted_writes_finish_by_drain() -> None:
    sink = Sink()
    behind = WriteBehind()

    accepted = [behind.submit(f"write {n}", sink.write(str(n))) for n in range(3)]
    assert accepted == [True, True, True]
    assert len(behind) == 3
    assert sink.written == []  # submit never runs the write inline

    assert await behind.drain() == 0
    assert sorted(sink.written) == ["0", "1", "2"]
    assert len(behind) == 0


async def test_drain_with_nothing_pending() -> None:
    assert await WriteBehind().drain() == 0


async def test_drain_reports_writes_still_running_at_the_deadline() -> None:
    sink = Sink(open_gate=False)
    behind = WriteBehind()
    behind.submit("slow", sink.write("slow"))
    behind.submit("also slow", sink.write("also slow"))

    assert await behind.drain(max_wait=0) == 2
    sink.gate.set()
    assert await behind.drain() == 0
    assert sorted(sink.written) == ["also slow", "slow"]


async def test_a_failed_write_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    sink = Sink()
    behind = WriteBehind()
    with caplog.at_level(logging.WARNING, logger="vylux_core.images.write_behind"):
        assert behind.submit("rendition cache/x.webp", sink.fail("bucket is read-only"))
        behind.submit("next", sink.write("next"))
        assert await behind.drain() == 0

    assert sink.written == ["next"]
    assert [r.getMessage() for r in caplog.records] == [
        "background write failed (rendition cache/x.webp): bucket is read-only"
    ]
    assert caplog.records[0].levelno == logging.WARNING


def test_an_abandoned_coroutine_warns() -> None:
    # Control for the next test: the warning it checks for is observable here.
    async def write() -> None:
        return None

    def abandon_a_coroutine() -> None:
        coroutine = write()
        del coroutine
        gc.collect()

    with pytest.warns(RuntimeWarning, match="was never awaited"):
        abandon_a_coroutine()


async def test_a_write_over_max_pending_is_dropped_and_closed(
    recwarn: pytest.WarningsRecorder,
) -> None:
    sink = Sink(open_gate=False)
    behind = WriteBehind(max_pending=2)
    assert behind.submit("first", sink.write("first"))
    assert behind.submit("second", sink.write("second"))

    dropped = sink.write("dropped")
    assert behind.submit("dropped", dropped) is False
    assert inspect.getcoroutinestate(dropped) == inspect.CORO_CLOSED
    del dropped
    gc.collect()

    assert len(behind) == 2
    sink.gate.set()
    assert await behind.drain() == 0
    assert sorted(sink.written) == ["first", "second"]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]

    # Room again once the backlog has drained.
    assert behind.submit("later", sink.write("later"))
    await behind.drain()
    assert "later" in sink.written
