"""Background loops during a Redis outage: one WARNING line per pass, no traceback."""

from __future__ import annotations

import asyncio
import logging
import random
import socket

import pytest

from tests.support.deadlines import scaled
from vylux_adapters.memory import ManualClock, MemoryJobStore
from vylux_adapters.redis import RedisTaskQueue, create_redis_client
from vylux_core.jobs.job import JobType, NewJob
from vylux_core.worker.periodic import run_periodically
from vylux_core.worker.reconciler import Reconciler

PERIODIC_LOGGER = "vylux_core.worker.periodic"


def closed_port() -> int:
    """A local port nothing listens on: Redis refuses the connection at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_for_records(caplog: pytest.LogCaptureFixture, count: int) -> None:
    async with asyncio.timeout(scaled(60.0)):
        while len([r for r in caplog.records if r.name == PERIODIC_LOGGER]) < count:
            await asyncio.sleep(0.05)


async def test_reconciler_on_unreachable_redis_logs_warnings_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    jobs = MemoryJobStore(clock=clock)
    await jobs.create(
        NewJob(
            id="job-1",
            type=JobType.THUMBNAIL,
            hash="a" * 64,
            source="in.png",
            options={},
            request_fingerprint="fp-1",
        )
    )
    clock.advance(3600)  # past the reconciler's grace, so the pass asks the queue
    client = create_redis_client(f"redis://127.0.0.1:{closed_port()}/0")
    queue = RedisTaskQueue(client=client, clock=clock, rng=random.Random(1))
    reconciler = Reconciler(jobs=jobs, queue=queue, clock=clock, interval=5.0)
    caplog.set_level(logging.DEBUG, logger=PERIODIC_LOGGER)
    loop = asyncio.create_task(reconciler.run())
    try:
        await wait_for_records(caplog, 3)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        await client.aclose()
    records = [r for r in caplog.records if r.name == PERIODIC_LOGGER]
    assert records
    for record in records:
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        assert "reconcile pass failed" in record.getMessage()
        assert "unavailable" in record.getMessage()


async def test_an_unexpected_failure_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    caplog.set_level(logging.DEBUG, logger=PERIODIC_LOGGER)
    loop = asyncio.create_task(
        run_periodically(broken, clock=ManualClock(), interval=5.0, name="broken")
    )
    try:
        await wait_for_records(caplog, 1)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    record = next(r for r in caplog.records if r.name == PERIODIC_LOGGER)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
