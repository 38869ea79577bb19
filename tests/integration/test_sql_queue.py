"""SqlTaskQueue under concurrent consumers: every task runs exactly once, nobody blocks.

PostgreSQL: workers pass each other's rows with FOR UPDATE SKIP LOCKED. SQLite: every
transaction is BEGIN IMMEDIATE, so writers queue on the lock (busy timeout) instead of
failing with "database is locked"; each consumer has its own engine, like a process.
An unreachable database surfaces as a queue outage.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from attrs import frozen
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.databases import database_url_for, emptied_engine
from tests.support.deadlines import scaled
from tests.support.queue import dequeue_one
from vylux_adapters.memory import ManualClock
from vylux_adapters.sql import SqlTaskQueue, create_engine
from vylux_core.errors import DatabaseUnavailable, QueueUnavailable
from vylux_core.jobs.task import Task

TASKS = 200
WEIGHTS = {"critical": 6, "default": 3}
LEASE_SECONDS = 60.0
# Generous: a deadlock shows up as this timeout, not as a hung run.
RUN_TIMEOUT_SECONDS = scaled(120.0)


@frozen
class Case:
    dialect: str
    consumers: int
    engine_per_consumer: bool


CASES = [
    pytest.param(
        Case("postgres", consumers=20, engine_per_consumer=False),
        id="postgres-20-consumers",
        marks=pytest.mark.postgres,
    ),
    pytest.param(Case("sqlite", consumers=4, engine_per_consumer=True), id="sqlite-4-consumers"),
]


@asynccontextmanager
async def consumer_engines(
    shared: AsyncEngine, database_url: str, case: Case
) -> AsyncIterator[list[AsyncEngine]]:
    if not case.engine_per_consumer:
        yield [shared] * case.consumers
        return
    async with AsyncExitStack() as stack:
        engines = [create_engine(database_url) for _ in range(case.consumers)]
        for engine in engines:
            stack.push_async_callback(engine.dispose)
        yield engines


def queued(serial: int) -> Task:
    queue = "critical" if serial % 3 == 0 else "default"
    return Task(
        id=f"task-{serial:03d}",
        type="image:thumbnail",
        queue=queue,
        payload={"serial": serial},
        max_retry=3,
        timeout_seconds=60,
    )


async def consume(queue: SqlTaskQueue, worker_id: str, batch: int, done: Counter[str]) -> None:
    # Everything was enqueued before the consumers started: an empty answer means drained.
    while leases := await queue.dequeue_many(WEIGHTS, worker_id, LEASE_SECONDS, batch):
        for lease in leases:
            await queue.ack(lease)
            done[lease.task.id] += 1


@pytest.mark.parametrize("case", CASES)
async def test_concurrent_consumers_take_every_task_exactly_once(
    request: pytest.FixtureRequest, case: Case
) -> None:
    database_url = database_url_for(request, case.dialect)
    clock = ManualClock()
    done: Counter[str] = Counter()

    async with (
        emptied_engine(database_url) as shared,
        consumer_engines(shared, database_url, case) as engines,
    ):
        producer = SqlTaskQueue(engine=shared, clock=clock, rng=random.Random(0))
        consumers = [
            SqlTaskQueue(engine=engine, clock=clock, rng=random.Random(index + 1))
            for index, engine in enumerate(engines)
        ]
        for serial in range(TASKS):
            assert await producer.enqueue(queued(serial))
        async with asyncio.timeout(RUN_TIMEOUT_SECONDS), asyncio.TaskGroup() as group:
            for index, consumer in enumerate(consumers):
                # Half take one task at a time, half fill several slots at once.
                batch = 1 if index % 2 else 3
                group.create_task(consume(consumer, f"worker-{index}", batch, done))

        stats = await producer.stats()

    assert sorted(done) == sorted(queued(serial).id for serial in range(TASKS))
    assert set(done.values()) == {1}
    assert {item.queue for item in stats} == {"critical", "default"}
    assert all(item.pending == item.active == 0 for item in stats)


UNREACHABLE = [
    pytest.param("postgresql://vylux@127.0.0.1:1/vylux", id="postgres-closed-port"),
    pytest.param("sqlite:////nonexistent-vylux-dir/queue.db", id="sqlite-missing-dir"),
]


@pytest.mark.parametrize("database_url", UNREACHABLE)
async def test_an_unreachable_database_is_a_queue_outage(database_url: str) -> None:
    engine = create_engine(database_url)
    queue = SqlTaskQueue(engine=engine, clock=ManualClock(), rng=random.Random(0))
    try:
        with pytest.raises(QueueUnavailable) as raised:
            await queue.enqueue(queued(1))
        with pytest.raises(QueueUnavailable):
            await dequeue_one(queue, WEIGHTS, "worker-0", LEASE_SECONDS)
    finally:
        await engine.dispose()

    # The message names the operation only: driver texts can carry hosts and credentials.
    assert str(raised.value) == "task queue unavailable during enqueue task"
    assert isinstance(raised.value.__cause__, DatabaseUnavailable)
