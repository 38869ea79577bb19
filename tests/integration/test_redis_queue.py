"""RedisTaskQueue beyond its ports: Lua atomicity, Cluster hash tags, outages, wake-ups."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio
from redis.crc import key_slot
from redis.exceptions import ResponseError

from tests.support.deadlines import scaled
from tests.support.queue import dequeue_one
from tests.support.redis import redis_client, redis_prefix, redis_url
from vylux_adapters.memory import ManualClock
from vylux_adapters.redis import RedisTaskQueue, create_redis_client
from vylux_core.errors import QueueUnavailable
from vylux_core.jobs.task import FailureOutcome, Lease, Task

pytestmark = pytest.mark.redis

WEIGHTS = {"critical": 6, "default": 3}
LEASE_SECONDS = 30.0
# A waiter that an enqueue wakes returns within WAKE_WITHIN; its max_wait is far longer,
# so returning in time means it was woken, not that it gave up.
WAKE_WITHIN = scaled(5.0)
MAX_WAIT = 3 * WAKE_WITHIN


def task(task_id: str, queue: str = "default", *, max_retry: int = 3) -> Task:
    return Task(
        id=task_id,
        type="video:transcode",
        queue=queue,
        payload={"job_id": task_id},
        max_retry=max_retry,
        timeout_seconds=600,
    )


@pytest.fixture
async def client() -> AsyncIterator[redis.asyncio.Redis]:
    async with redis_client() as connected:
        yield connected


@pytest.fixture
async def prefix(client: redis.asyncio.Redis) -> AsyncIterator[str]:
    async with redis_prefix(client) as fresh:
        yield fresh


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def queue(client: redis.asyncio.Redis, prefix: str, clock: ManualClock) -> RedisTaskQueue:
    return RedisTaskQueue(client=client, clock=clock, rng=random.Random(1), prefix=prefix)


async def on_separate_connections(
    count: int,
    prefix: str,
    clock: ManualClock,
    work: Callable[[int, RedisTaskQueue], Coroutine[Any, Any, None]],
) -> None:
    """Run ``work(n, queue)`` concurrently, each with its own client and connection pool."""
    clients = [create_redis_client(redis_url()) for _ in range(count)]
    try:
        async with asyncio.TaskGroup() as group:
            for n, own_client in enumerate(clients):
                own = RedisTaskQueue(
                    client=own_client, clock=clock, rng=random.Random(100 + n), prefix=prefix
                )
                group.create_task(work(n, own))
    finally:
        for own_client in clients:
            await own_client.aclose()


# --- atomicity under concurrency -------------------------------------------------------


async def test_concurrent_consumers_receive_every_task_exactly_once(
    queue: RedisTaskQueue, prefix: str, clock: ManualClock
) -> None:
    ids = [f"t-{n}" for n in range(200)]
    for n, task_id in enumerate(ids):
        assert await queue.enqueue(task(task_id, "critical" if n % 3 == 0 else "default"))
    delivered: list[tuple[str, str]] = []

    async def consume(n: int, consumer: RedisTaskQueue) -> None:
        worker_id = f"worker-{n}"
        while (lease := await dequeue_one(consumer, WEIGHTS, worker_id, LEASE_SECONDS)) is not None:
            delivered.append((lease.task.id, worker_id))
            await consumer.ack(lease)

    await on_separate_connections(20, prefix, clock, consume)

    assert Counter(task_id for task_id, _ in delivered) == Counter(ids)
    assert len({worker for _, worker in delivered}) > 1, "the consumers did not overlap"
    for stats in await queue.stats():
        assert (stats.pending, stats.active, stats.retry, stats.archived) == (0, 0, 0, 0)


async def test_concurrent_enqueues_of_one_id_add_it_once(
    queue: RedisTaskQueue, prefix: str, clock: ManualClock
) -> None:
    added: list[bool] = []

    async def enqueue(_n: int, producer: RedisTaskQueue) -> None:
        added.append(await producer.enqueue(task("same-id")))

    await on_separate_connections(20, prefix, clock, enqueue)

    assert sorted(added) == [False] * 19 + [True]
    [stats] = await queue.stats()
    assert stats.pending == 1


async def test_concurrent_recoverers_take_back_each_expired_lease_once(
    queue: RedisTaskQueue, prefix: str, clock: ManualClock
) -> None:
    ids = [f"t-{n}" for n in range(50)]
    for task_id in ids:
        await queue.enqueue(task(task_id))
    leases = [await dequeue_one(queue, WEIGHTS, "worker-dead", LEASE_SECONDS) for _ in ids]
    clock.advance(LEASE_SECONDS + 1)
    recovered: list[str] = []

    async def recover(_n: int, recoverer: RedisTaskQueue) -> None:
        for item in await recoverer.recover_expired():
            assert (item.outcome, item.retried) == (FailureOutcome.RETRY_SCHEDULED, 1)
            recovered.append(item.task.id)

    await on_separate_connections(10, prefix, clock, recover)

    assert Counter(recovered) == Counter(ids)
    for lease in leases:
        assert lease is not None
        assert (await queue.fail(lease, "late", permanent=False)).outcome is (
            FailureOutcome.LEASE_LOST
        )
    [stats] = await queue.stats()
    assert (stats.active, stats.retry) == (0, 50)


# --- Redis Cluster: one slot per queue ----------------------------------------------------


QUEUES = ("default", "video:large")
QUEUE_KEY_KINDS = ("pending", "active", "retry", "archived")


async def slot_of(client: redis.asyncio.Redis, key: str) -> int:
    """The server's CLUSTER KEYSLOT where cluster support is on, else the same CRC16."""
    try:
        return int(await client.cluster("KEYSLOT", key))
    except ResponseError:
        return key_slot(key.encode())


async def test_every_key_of_a_queue_carries_the_queue_hash_tag(
    client: redis.asyncio.Redis, queue: RedisTaskQueue, prefix: str, clock: ManualClock
) -> None:
    for name in QUEUES:
        # FIFO: the first three are taken and moved on; the last one stays pending.
        for state in ("active", "retry", "archived", "pending"):
            await queue.enqueue(task(f"{name}-{state}", name))
        for permanent in (None, False, True):
            lease = await dequeue_one(queue, {name: 1}, "worker-a", LEASE_SECONDS)
            assert lease is not None
            if permanent is not None:
                await queue.fail(lease, "broke", permanent=permanent)
    keys = sorted([key.decode() async for key in client.scan_iter(match=f"{prefix}:*")])
    assert {f"{prefix}:{{{name}}}:{kind}" for name in QUEUES for kind in QUEUE_KEY_KINDS} <= set(
        keys
    ), "not every kind of key was created"

    by_tag: dict[str, set[int]] = {}
    for key in keys:
        if key == f"{prefix}:queues":
            continue  # the registry is read on its own, never inside a script
        tag = key[key.index("{") + 1 : key.index("}")]
        by_tag.setdefault(tag, set()).add(await slot_of(client, key))

    assert set(by_tag) == {"default", "video:large", "wake"}
    assert {tag: len(slots) for tag, slots in by_tag.items()} == {
        "default": 1,
        "video:large": 1,
        "wake": 1,
    }
    assert {key for key in keys if ":t:" in key} == {
        f"{prefix}:{{{name}}}:t:{name}-{state}"
        for name in QUEUES
        for state in ("pending", "active", "retry", "archived")
    }


# --- outages ------------------------------------------------------------------------------

LEASE = Lease(
    task=task("t-1"),
    worker_id="worker-a",
    token="0123456789abcdef",
    retried=0,
    deadline=datetime(2026, 1, 1, tzinfo=UTC),
)

OPERATIONS: list[tuple[str, Callable[[RedisTaskQueue], Awaitable[object]]]] = [
    ("enqueue", lambda queue: queue.enqueue(task("t-1"))),
    ("contains", lambda queue: queue.contains("t-1")),
    ("cancel", lambda queue: queue.cancel("t-1")),
    ("stats", lambda queue: queue.stats()),
    ("list_archived", lambda queue: queue.list_archived("default", 10)),
    ("requeue_archived", lambda queue: queue.requeue_archived("t-1")),
    ("dequeue_many", lambda queue: queue.dequeue_many(WEIGHTS, "worker-a", LEASE_SECONDS, 1)),
    ("heartbeat", lambda queue: queue.heartbeat(LEASE, LEASE_SECONDS)),
    ("ack", lambda queue: queue.ack(LEASE)),
    ("fail", lambda queue: queue.fail(LEASE, "boom", permanent=False)),
    ("release", lambda queue: queue.release(LEASE)),
    ("recover_expired", lambda queue: queue.recover_expired()),
    ("wait_for_work", lambda queue: queue.wait_for_work(["default"], 0.1)),
]


@pytest.mark.parametrize("operation", [pytest.param(call, id=name) for name, call in OPERATIONS])
async def test_a_closed_port_raises_queue_unavailable_without_the_url(
    operation: Callable[[RedisTaskQueue], Awaitable[object]],
) -> None:
    unreachable = create_redis_client("redis://:s3cret-password@127.0.0.1:1/0")
    try:
        queue = RedisTaskQueue(client=unreachable, clock=ManualClock(), rng=random.Random(1))

        with pytest.raises(QueueUnavailable) as raised:
            await operation(queue)

        assert raised.value.code == "queue_unavailable"
        assert "s3cret" not in str(raised.value)
        assert "127.0.0.1" not in str(raised.value)
        assert raised.value.__cause__ is not None
    finally:
        await unreachable.aclose()


# --- wake-ups -------------------------------------------------------------------------------


async def test_an_enqueue_wakes_the_waiter_of_its_own_queue_only(queue: RedisTaskQueue) -> None:
    large_waiter = asyncio.create_task(queue.wait_for_work(["video:large"], max_wait=MAX_WAIT))
    normal_waiter = asyncio.create_task(queue.wait_for_work(["critical", "default"], MAX_WAIT))
    await asyncio.sleep(0.05)

    await queue.enqueue(task("t-1", "default"))

    await asyncio.wait_for(normal_waiter, timeout=WAKE_WITHIN)
    await asyncio.sleep(0.05)
    assert not large_waiter.done(), "a wake-up for 'default' reached the 'video:large' waiter"
    await queue.enqueue(task("large-1", "video:large"))
    await asyncio.wait_for(large_waiter, timeout=WAKE_WITHIN)


async def test_a_due_retry_counts_as_work_for_wait_for_work(
    queue: RedisTaskQueue, clock: ManualClock
) -> None:
    await queue.enqueue(task("t-1"))
    lease = await dequeue_one(queue, WEIGHTS, "worker-a", LEASE_SECONDS)
    assert lease is not None
    result = await queue.fail(lease, "transient", permanent=False)
    assert result.retry_at is not None
    clock.advance((result.retry_at - clock.now()).total_seconds())

    await asyncio.wait_for(queue.wait_for_work(["default"], max_wait=MAX_WAIT), timeout=WAKE_WITHIN)


# --- scripts ---------------------------------------------------------------------------------


async def test_scripts_are_loaded_again_after_a_script_flush(
    client: redis.asyncio.Redis, queue: RedisTaskQueue
) -> None:
    # Like a failover to a replica or a restarted server: the script cache is empty.
    await client.script_flush()
    assert await queue.enqueue(task("t-1"))
    assert not await queue.enqueue(task("t-1"))
    await client.script_flush()
    lease = await dequeue_one(queue, WEIGHTS, "worker-a", LEASE_SECONDS)
    assert lease is not None
    await client.script_flush()

    await queue.release(lease)

    [stats] = await queue.stats()
    assert (stats.pending, stats.active) == (1, 0)
    await asyncio.wait_for(queue.wait_for_work(["default"], max_wait=MAX_WAIT), timeout=WAKE_WITHIN)
