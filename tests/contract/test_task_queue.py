"""TaskQueue + TaskConsumer contract: one adapter object serves producers and workers."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any, Protocol

import pytest

from tests.support.databases import database_url_for, emptied_engine
from tests.support.deadlines import scaled
from tests.support.queue import dequeue_one
from tests.support.redis import redis_client, redis_prefix
from vylux_adapters.memory import ManualClock, MemoryTaskQueue
from vylux_adapters.redis import RedisTaskQueue
from vylux_adapters.sql import SqlTaskQueue
from vylux_core.jobs.retry_backoff import TASK_BACKOFF
from vylux_core.jobs.task import (
    ArchivedTask,
    CancelOutcome,
    FailureOutcome,
    Lease,
    QueueStats,
    RecoveredTask,
    Task,
    TaskState,
)
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.ports.task_queue import TaskQueue


class QueueAdapter(TaskQueue, TaskConsumer, Protocol):
    """Both sides of the queue, as every task-queue adapter implements them."""


QueueFactory = Callable[
    [ManualClock, pytest.FixtureRequest], AbstractAsyncContextManager[QueueAdapter]
]

SEED = 20260101


@asynccontextmanager
async def memory_task_queue(
    clock: ManualClock, _request: pytest.FixtureRequest
) -> AsyncIterator[QueueAdapter]:
    yield MemoryTaskQueue(clock=clock, rng=random.Random(SEED))


def sql_task_queue(dialect: str) -> QueueFactory:
    @asynccontextmanager
    async def factory(
        clock: ManualClock, request: pytest.FixtureRequest
    ) -> AsyncIterator[QueueAdapter]:
        async with emptied_engine(database_url_for(request, dialect)) as engine:
            yield SqlTaskQueue(engine=engine, clock=clock, rng=random.Random(SEED))

    return factory


@asynccontextmanager
async def redis_task_queue(
    clock: ManualClock, _request: pytest.FixtureRequest
) -> AsyncIterator[QueueAdapter]:
    async with redis_client() as client, redis_prefix(client) as prefix:
        yield RedisTaskQueue(client=client, clock=clock, rng=random.Random(SEED), prefix=prefix)


TASK_QUEUE_FACTORIES = [
    pytest.param(memory_task_queue, id="memory"),
    pytest.param(sql_task_queue("sqlite"), id="sqlite"),
    pytest.param(sql_task_queue("postgres"), id="postgres", marks=pytest.mark.postgres),
    pytest.param(redis_task_queue, id="redis", marks=pytest.mark.redis),
]


@pytest.fixture(params=TASK_QUEUE_FACTORIES)
async def queue(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[QueueAdapter]:
    factory: QueueFactory = request.param
    async with factory(clock, request) as adapter:
        yield adapter


LEASE_SECONDS = 30.0
# A waiter that an enqueue wakes returns within WAKE_WITHIN; its max_wait is far longer,
# so returning in time means it was woken, not that it gave up.
WAKE_WITHIN = scaled(5.0)
MAX_WAIT = 3 * WAKE_WITHIN
WEIGHTS = {"critical": 6, "default": 3}
DEFAULT_ONLY = {"default": 1}
# Longer than any back-off the queue may choose (the cap plus the largest jitter).
PAST_ANY_BACKOFF = TASK_BACKOFF.ceiling * (1 + TASK_BACKOFF.spread) + 1


def task(task_id: str, queue: str = "default", *, max_retry: int = 3, **payload: Any) -> Task:
    return Task(
        id=task_id,
        type="video:transcode",
        queue=queue,
        payload=payload or {"job_id": task_id, "nested": {"list": [1, "ü"]}},
        max_retry=max_retry,
        timeout_seconds=600,
    )


async def take(
    queue: QueueAdapter, worker_id: str = "worker-a", weights: Mapping[str, int] = DEFAULT_ONLY
) -> Lease:
    lease = await dequeue_one(queue, weights, worker_id, LEASE_SECONDS)
    assert lease is not None, "expected a task to be dequeued"
    return lease


async def lost_lease(queue: QueueAdapter, clock: ManualClock, queued: Task) -> Lease:
    """``queued``'s lease as "worker-a" took it, once it has expired and been recovered."""
    await queue.enqueue(queued)
    lost = await take(queue, "worker-a")
    clock.advance(LEASE_SECONDS + 1)
    await queue.recover_expired()
    return lost


async def stats_of(queue: QueueAdapter, name: str) -> QueueStats:
    by_name = {stats.queue: stats for stats in await queue.stats()}
    assert name in by_name, f"no stats for queue {name!r}: {sorted(by_name)}"
    return by_name[name]


def counts(stats: QueueStats) -> dict[str, int]:
    return {
        "pending": stats.pending,
        "active": stats.active,
        "scheduled": stats.scheduled,
        "retry": stats.retry,
        "archived": stats.archived,
    }


def only(state: str, n: int = 1) -> dict[str, int]:
    return {name.value: n if name == state else 0 for name in TaskState}


async def bring_to(queue: QueueAdapter, state: TaskState, held: Task) -> None:
    """Enqueue ``held`` and move it to ``state`` through the ports."""
    assert await queue.enqueue(held)
    if state is TaskState.PENDING:
        return
    lease = await take(queue)
    if state is TaskState.RETRY:
        assert (await queue.fail(lease, "transient", permanent=False)).outcome is (
            FailureOutcome.RETRY_SCHEDULED
        )
    elif state is TaskState.ARCHIVED:
        assert (await queue.fail(lease, "fatal", permanent=True)).outcome is (
            FailureOutcome.ARCHIVED
        )


HELD_STATES = [
    pytest.param(TaskState.PENDING, id="pending"),
    pytest.param(TaskState.ACTIVE, id="active"),
    pytest.param(TaskState.RETRY, id="retry"),
    pytest.param(TaskState.ARCHIVED, id="archived"),
]


# --- enqueue and dequeue ------------------------------------------------------------------------


async def test_enqueue_then_dequeue_leases_the_task(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    queued = task("t-1")

    assert await queue.enqueue(queued)
    assert await queue.contains("t-1")
    lease = await take(queue, "worker-7")

    assert lease == Lease(
        task=queued,
        worker_id="worker-7",
        token=lease.token,
        retried=0,
        deadline=clock.now() + timedelta(seconds=LEASE_SECONDS),
    )
    assert lease.token
    assert await queue.contains("t-1")
    assert counts(await stats_of(queue, "default")) == only("active")
    await queue.ack(lease)
    assert not await queue.contains("t-1")
    assert await dequeue_one(queue, DEFAULT_ONLY, "worker-7", LEASE_SECONDS) is None


@pytest.mark.parametrize("state", HELD_STATES)
async def test_enqueue_is_idempotent_in_every_state(queue: QueueAdapter, state: TaskState) -> None:
    await bring_to(queue, state, task("t-1"))

    again = await queue.enqueue(task("t-1", other="payload"))

    assert again is False
    assert counts(await stats_of(queue, "default")) == only(state)


async def test_enqueue_changes_nothing_when_the_id_is_held(queue: QueueAdapter) -> None:
    original = task("t-1")
    await queue.enqueue(original)

    assert not await queue.enqueue(task("t-1", "critical", other="payload"))

    assert (await take(queue)).task == original
    assert await dequeue_one(queue, WEIGHTS, "worker-a", LEASE_SECONDS) is None


async def test_an_acked_task_can_be_enqueued_again(queue: QueueAdapter) -> None:
    await queue.enqueue(task("t-1"))
    await queue.ack(await take(queue))

    assert await queue.enqueue(task("t-1"))
    assert (await take(queue)).retried == 0


async def test_dequeue_of_an_empty_queue_returns_none(queue: QueueAdapter) -> None:
    assert await dequeue_one(queue, WEIGHTS, "worker-a", LEASE_SECONDS) is None
    assert await dequeue_one(queue, {}, "worker-a", LEASE_SECONDS) is None


async def test_dequeue_takes_only_from_the_weighted_queues(queue: QueueAdapter) -> None:
    await queue.enqueue(task("large-1", "video:large"))

    assert await dequeue_one(queue, WEIGHTS, "worker-a", LEASE_SECONDS) is None
    lease = await take(queue, weights={"video:large": 1})
    assert lease.task.id == "large-1"


async def test_dequeue_is_fifo_within_a_queue(queue: QueueAdapter) -> None:
    ids = [f"t-{n}" for n in range(6)]
    for task_id in ids:
        await queue.enqueue(task(task_id))  # one instant: order alone must decide

    taken = [(await take(queue, weights=WEIGHTS)).task.id for _ in ids]

    assert taken == ids


async def test_dequeue_falls_through_to_a_non_empty_queue(queue: QueueAdapter) -> None:
    await queue.enqueue(task("d-1", "default"))
    await queue.enqueue(task("d-2", "default"))

    taken = [(await take(queue, weights=WEIGHTS)).task.id for _ in range(2)]

    assert taken == ["d-1", "d-2"]


async def test_dequeue_many_leases_up_to_the_limit_in_fifo_order(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    for task_id in ("t-1", "t-2", "t-3"):
        await queue.enqueue(task(task_id))

    leases = await queue.dequeue_many(DEFAULT_ONLY, "worker-a", LEASE_SECONDS, 2)

    assert [lease.task.id for lease in leases] == ["t-1", "t-2"]
    assert {(lease.worker_id, lease.retried) for lease in leases} == {("worker-a", 0)}
    assert {lease.deadline for lease in leases} == {clock.now() + timedelta(seconds=LEASE_SECONDS)}
    assert len({lease.token for lease in leases}) == 2
    assert counts(await stats_of(queue, "default")) == {**only("active", 2), "pending": 1}
    await queue.ack(leases[0])
    assert await queue.heartbeat(leases[1], LEASE_SECONDS) is not None
    rest = await queue.dequeue_many(DEFAULT_ONLY, "worker-a", LEASE_SECONDS, 5)
    assert [lease.task.id for lease in rest] == ["t-3"]
    assert await queue.dequeue_many(DEFAULT_ONLY, "worker-a", LEASE_SECONDS, 5) == []


async def test_dequeue_many_fills_the_limit_from_several_queues(queue: QueueAdapter) -> None:
    fifo = {"critical": ["c-1", "c-2"], "default": ["d-1", "d-2", "d-3"]}
    for name, ids in fifo.items():
        for task_id in ids:
            await queue.enqueue(task(task_id, name))

    leases = await queue.dequeue_many(WEIGHTS, "worker-a", LEASE_SECONDS, 4)

    assert len(leases) == 4
    for name, ids in fifo.items():
        taken = [lease.task.id for lease in leases if lease.task.queue == name]
        assert taken == ids[: len(taken)], f"{name} taken out of order: {taken}"


async def test_weights_set_the_share_of_each_queue(queue: QueueAdapter) -> None:
    # 2 000 rounds put the critical share's standard deviation near 0.0105, so the
    # 0.04 tolerance is 3.8 of them (a false failure about once in 7 000 runs) while
    # still telling 6:3 from even weights (0.5) by far; more rounds cost minutes on
    # PostgreSQL under load.
    rounds = 2_000
    for name in WEIGHTS:
        await queue.enqueue(task(f"{name}-0", name))
    served: Counter[str] = Counter()

    for _ in range(rounds):
        lease = await take(queue, weights=WEIGHTS)
        served[lease.task.queue] += 1
        # Handed back, so that both queues are never empty: only the weights decide. One
        # call instead of ack + enqueue keeps the rounds quick on the SQL adapters.
        await queue.release(lease)

    share = served["critical"] / rounds
    assert share == pytest.approx(6 / 9, abs=0.04), f"critical share {share:.3f}"


# --- leases --------------------------------------------------------------------------------------


async def test_heartbeats_keep_a_long_task(queue: QueueAdapter, clock: ManualClock) -> None:
    await queue.enqueue(task("t-1"))
    lease = await take(queue)
    first_deadline = lease.deadline

    for _ in range(5):
        clock.advance(LEASE_SECONDS * 2 / 3)
        renewed = await queue.heartbeat(lease, LEASE_SECONDS)
        assert renewed is not None
        assert renewed.deadline == clock.now() + timedelta(seconds=LEASE_SECONDS)
        assert (renewed.task, renewed.worker_id, renewed.retried) == (lease.task, "worker-a", 0)
        assert await queue.recover_expired() == []
        lease = renewed

    assert clock.now() > first_deadline + timedelta(seconds=LEASE_SECONDS)
    assert counts(await stats_of(queue, "default")) == only("active")
    await queue.ack(lease)
    assert not await queue.contains("t-1")


async def test_expired_lease_is_recovered_to_retry_and_counts_an_attempt(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    await queue.enqueue(task("t-1"))
    lease = await take(queue)
    clock.advance(LEASE_SECONDS - 1)
    assert await queue.recover_expired() == []

    clock.advance(2)

    assert await queue.recover_expired() == [
        RecoveredTask(lease.task, FailureOutcome.RETRY_SCHEDULED, 1)
    ]
    assert await queue.recover_expired() == []
    assert await queue.contains("t-1")
    assert counts(await stats_of(queue, "default")) == only("retry")
    assert await dequeue_one(queue, DEFAULT_ONLY, "worker-b", LEASE_SECONDS) is None  # back-off
    clock.advance(PAST_ANY_BACKOFF)
    again = await take(queue, "worker-b")
    assert (again.task, again.retried) == (lease.task, 1)


async def test_expired_lease_without_retries_left_is_archived(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    await queue.enqueue(task("t-1", max_retry=0))
    lease = await take(queue)
    clock.advance(LEASE_SECONDS + 1)

    assert await queue.recover_expired() == [RecoveredTask(lease.task, FailureOutcome.ARCHIVED, 1)]

    assert counts(await stats_of(queue, "default")) == only("archived")
    [archived] = await queue.list_archived("default", 10)
    assert (archived.task.id, archived.retried) == ("t-1", 1)
    assert archived.last_error


async def test_a_lost_lease_no_longer_touches_the_task(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    lost = await lost_lease(queue, clock, task("t-1"))

    # Taken back, not yet re-run.
    assert await queue.heartbeat(lost, LEASE_SECONDS) is None
    assert (await queue.fail(lost, "late", permanent=True)).outcome is FailureOutcome.LEASE_LOST
    await queue.ack(lost)
    await queue.release(lost)
    assert counts(await stats_of(queue, "default")) == only("retry")

    # Re-run by another worker.
    clock.advance(PAST_ANY_BACKOFF)
    current = await take(queue, "worker-b")
    assert await queue.heartbeat(lost, LEASE_SECONDS) is None
    lost_fail = await queue.fail(lost, "late", permanent=True)
    assert (lost_fail.outcome, lost_fail.retry_at) == (FailureOutcome.LEASE_LOST, None)
    await queue.ack(lost)
    await queue.release(lost)
    assert counts(await stats_of(queue, "default")) == only("active")
    assert await queue.heartbeat(current, LEASE_SECONDS) is not None


async def test_a_lost_lease_stays_lost_when_its_worker_takes_the_task_again(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    lost = await lost_lease(queue, clock, task("t-1"))
    clock.advance(PAST_ANY_BACKOFF)

    current = await take(queue, "worker-a")  # the same worker runs the next attempt

    assert current.retried == 1
    assert await queue.heartbeat(lost, LEASE_SECONDS) is None
    assert (await queue.fail(lost, "late", permanent=True)).outcome is FailureOutcome.LEASE_LOST
    await queue.ack(lost)
    assert counts(await stats_of(queue, "default")) == only("active")
    assert await queue.heartbeat(current, LEASE_SECONDS) is not None


async def test_a_lease_from_before_an_archive_and_requeue_stays_lost(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    lost = await lost_lease(queue, clock, task("t-1", max_retry=0))  # no retry left: archived
    assert await queue.requeue_archived("t-1")

    current = await take(queue, "worker-a")  # same worker, retry count reset to 0

    assert (current.retried, lost.retried) == (0, 0)
    assert await queue.heartbeat(lost, LEASE_SECONDS) is None
    assert (await queue.fail(lost, "late", permanent=True)).outcome is FailureOutcome.LEASE_LOST
    assert await queue.heartbeat(current, LEASE_SECONDS) is not None


# --- failures, retries, the archive ------------------------------------------------------------


async def test_fail_schedules_a_retry_with_back_off(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    await queue.enqueue(task("t-1"))
    lease = await take(queue)

    result = await queue.fail(lease, "timeout", permanent=False)

    assert result.outcome is FailureOutcome.RETRY_SCHEDULED
    assert result.retry_at is not None
    assert result.retry_at > clock.now()
    assert counts(await stats_of(queue, "default")) == only("retry")
    assert await queue.contains("t-1")
    clock.advance((result.retry_at - clock.now()).total_seconds() - 1)
    assert await dequeue_one(queue, DEFAULT_ONLY, "worker-a", LEASE_SECONDS) is None
    clock.advance(2)
    again = await take(queue)
    assert (again.task, again.retried) == (lease.task, 1)


async def test_task_is_archived_after_max_retry_failures(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    queued = task("t-1", max_retry=2)
    await queue.enqueue(queued)

    outcomes = []
    for attempt in range(3):
        lease = await take(queue)
        assert lease.retried == attempt
        result = await queue.fail(lease, f"error {attempt + 1}", permanent=False)
        outcomes.append(result.outcome)
        clock.advance(PAST_ANY_BACKOFF)

    assert outcomes == [
        FailureOutcome.RETRY_SCHEDULED,
        FailureOutcome.RETRY_SCHEDULED,
        FailureOutcome.ARCHIVED,
    ]
    assert await dequeue_one(queue, DEFAULT_ONLY, "worker-a", LEASE_SECONDS) is None
    assert await queue.contains("t-1")
    assert counts(await stats_of(queue, "default")) == only("archived")
    assert await queue.list_archived("default", 10) == [
        ArchivedTask(
            task=queued,
            retried=3,
            last_error="error 3",
            archived_at=clock.now() - timedelta(seconds=PAST_ANY_BACKOFF),
        )
    ]

    assert await queue.requeue_archived("t-1")

    assert counts(await stats_of(queue, "default")) == only("pending")
    assert await queue.list_archived("default", 10) == []
    again = await take(queue)
    assert (again.task, again.retried) == (queued, 0)


async def test_permanent_failure_archives_at_once(queue: QueueAdapter, clock: ManualClock) -> None:
    await queue.enqueue(task("t-1", max_retry=5))
    lease = await take(queue)

    result = await queue.fail(lease, "unsupported codec", permanent=True)

    assert (result.outcome, result.retry_at) == (FailureOutcome.ARCHIVED, None)
    [archived] = await queue.list_archived("default", 10)
    assert (archived.task.id, archived.retried, archived.last_error) == (
        "t-1",
        1,
        "unsupported codec",
    )
    assert archived.archived_at == clock.now()


async def test_list_archived_is_per_queue_newest_first_and_limited(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    for task_id, name in (("a", "default"), ("b", "default"), ("c", "critical")):
        await queue.enqueue(task(task_id, name))
        lease = await take(queue, weights={name: 1})
        await queue.fail(lease, f"{task_id} broke", permanent=True)
        clock.advance(5)

    newest_first = await queue.list_archived("default", 10)
    limited = await queue.list_archived("default", 1)
    critical = await queue.list_archived("critical", 10)

    assert [item.task.id for item in newest_first] == ["b", "a"]
    assert [item.task.id for item in limited] == ["b"]
    assert [(item.task.id, item.last_error) for item in critical] == [("c", "c broke")]
    assert await queue.list_archived("video:large", 10) == []


@pytest.mark.parametrize(
    "state",
    [param for param in HELD_STATES if param.values[0] is not TaskState.ARCHIVED],
)
async def test_requeue_archived_ignores_tasks_that_are_not_archived(
    queue: QueueAdapter, state: TaskState
) -> None:
    await bring_to(queue, state, task("t-1"))

    assert not await queue.requeue_archived("t-1")
    assert not await queue.requeue_archived("no-such-task")
    assert counts(await stats_of(queue, "default")) == only(state)


# --- cancellation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [param for param in HELD_STATES if param.values[0] is not TaskState.ACTIVE],
)
async def test_cancel_deletes_a_waiting_task(
    queue: QueueAdapter, clock: ManualClock, state: TaskState
) -> None:
    await bring_to(queue, state, task("t-1"))

    assert await queue.cancel("t-1") is CancelOutcome.DELETED

    assert not await queue.contains("t-1")
    assert await queue.cancel("t-1") is CancelOutcome.NOT_FOUND
    clock.advance(PAST_ANY_BACKOFF)
    assert await dequeue_one(queue, DEFAULT_ONLY, "worker-a", LEASE_SECONDS) is None
    assert await queue.list_archived("default", 10) == []
    assert counts(await stats_of(queue, "default")) == only("pending", 0)


async def test_cancel_signals_a_running_task_which_is_then_dropped(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    await queue.enqueue(task("t-1"))
    lease = await take(queue)

    assert await queue.cancel("t-1") is CancelOutcome.SIGNALLED
    assert await queue.cancel("t-1") is CancelOutcome.SIGNALLED  # idempotent

    assert await queue.contains("t-1")
    assert await queue.heartbeat(lease, LEASE_SECONDS) is None
    result = await queue.fail(lease, "stopped: cancelled", permanent=False)
    assert result.outcome is FailureOutcome.CANCELLED
    assert not await queue.contains("t-1")
    clock.advance(PAST_ANY_BACKOFF)
    assert await dequeue_one(queue, DEFAULT_ONLY, "worker-a", LEASE_SECONDS) is None
    assert await queue.list_archived("default", 10) == []


async def test_cancel_of_unknown_task_is_not_found(queue: QueueAdapter) -> None:
    assert await queue.cancel("no-such-task") is CancelOutcome.NOT_FOUND


# --- graceful shutdown ---------------------------------------------------------------------------


async def test_release_puts_the_task_back_first_in_line(queue: QueueAdapter) -> None:
    for task_id in ("t-1", "t-2", "t-3"):
        await queue.enqueue(task(task_id))
    lease = await take(queue, "worker-a")

    await queue.release(lease)

    assert counts(await stats_of(queue, "default")) == only("pending", 3)
    assert await queue.heartbeat(lease, LEASE_SECONDS) is None
    taken = [await take(queue, "worker-b") for _ in range(3)]
    assert [(item.task.id, item.retried) for item in taken] == [
        ("t-1", 0),
        ("t-2", 0),
        ("t-3", 0),
    ]


async def test_release_does_not_count_an_attempt(queue: QueueAdapter, clock: ManualClock) -> None:
    await queue.enqueue(task("t-1"))
    result = await queue.fail(await take(queue), "transient", permanent=False)
    assert result.retry_at is not None
    clock.advance(PAST_ANY_BACKOFF)
    second_attempt = await take(queue)
    await queue.enqueue(task("t-2"))

    await queue.release(second_attempt)

    again = await take(queue)
    assert (again.task.id, again.retried) == ("t-1", 1)


# --- stats ---------------------------------------------------------------------------------------


async def test_stats_count_each_state_per_queue(queue: QueueAdapter, clock: ManualClock) -> None:
    for task_id in ("d-1", "d-2", "d-3", "d-4"):
        await queue.enqueue(task(task_id, "default"))
    await queue.enqueue(task("c-1", "critical"))
    clock.advance(10)
    await take(queue)  # d-1 stays active
    await queue.fail(await take(queue), "transient", permanent=False)  # d-2 -> retry
    await queue.fail(await take(queue), "fatal", permanent=True)  # d-3 -> archived

    default = await stats_of(queue, "default")
    critical = await stats_of(queue, "critical")

    assert counts(default) == {
        "pending": 1,
        "active": 1,
        "scheduled": 0,
        "retry": 1,
        "archived": 1,
    }
    assert counts(critical) == only("pending")
    assert default.oldest_pending_age_seconds == pytest.approx(10, abs=1)
    assert critical.oldest_pending_age_seconds == pytest.approx(10, abs=1)
    clock.advance(32)
    assert (await stats_of(queue, "default")).oldest_pending_age_seconds == pytest.approx(42, abs=1)


async def test_stats_age_is_zero_without_pending_tasks(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    await queue.enqueue(task("t-1"))
    await take(queue)
    clock.advance(100)

    stats = await stats_of(queue, "default")

    assert counts(stats) == only("active")
    assert stats.oldest_pending_age_seconds == 0


async def test_stats_keep_listing_a_queue_that_held_tasks(queue: QueueAdapter) -> None:
    assert await queue.stats() == []
    await queue.enqueue(task("t-1", "drained"))
    await queue.ack(await take(queue, weights={"drained": 1}))

    stats = await stats_of(queue, "drained")

    assert counts(stats) == only("pending", 0)
    assert stats.oldest_pending_age_seconds == 0


async def test_wait_for_work_returns_when_a_task_is_enqueued(queue: QueueAdapter) -> None:
    waiter = asyncio.create_task(queue.wait_for_work(["default"], max_wait=MAX_WAIT))
    await asyncio.sleep(0.05)
    assert not waiter.done()

    await queue.enqueue(task("t-1"))

    await asyncio.wait_for(waiter, timeout=WAKE_WITHIN)


async def test_wait_for_work_returns_at_once_when_work_is_pending(queue: QueueAdapter) -> None:
    await queue.enqueue(task("t-1"))
    await asyncio.wait_for(queue.wait_for_work(["default"], max_wait=MAX_WAIT), timeout=WAKE_WITHIN)


async def test_wait_for_work_times_out_without_work(queue: QueueAdapter) -> None:
    await asyncio.wait_for(queue.wait_for_work(["default"], max_wait=0.1), timeout=WAKE_WITHIN)


async def test_an_expired_cancelled_task_is_dropped(
    queue: QueueAdapter, clock: ManualClock
) -> None:
    await queue.enqueue(task("t-1"))
    lease = await take(queue)
    assert await queue.cancel("t-1") is CancelOutcome.SIGNALLED
    clock.advance(LEASE_SECONDS + 1)

    assert await queue.recover_expired() == [RecoveredTask(lease.task, FailureOutcome.CANCELLED, 0)]
    assert not await queue.contains("t-1")
