"""RedisTaskQueue: both task-queue ports (producer and consumer) on Redis with Lua."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Collection, Mapping
from datetime import timedelta
from functools import cached_property

import redis.asyncio
from attrs import evolve

from vylux_adapters.redis.errors import queue_errors
from vylux_adapters.redis.keys import QueueKeys, registry_key
from vylux_adapters.redis.scripts import QueueScripts, load_scripts
from vylux_adapters.redis.task_hash import (
    ARCHIVED_FIELDS,
    decode_archived,
    decode_recovered,
    decode_stats,
    decode_task,
    enqueue_args,
    from_ms,
    text,
    to_ms,
)
from vylux_adapters.redis.wake_up import run_and_wake, wait_for_token, wake
from vylux_core.jobs.queue_routing import weighted_queue_order
from vylux_core.jobs.retry_backoff import TASK_BACKOFF
from vylux_core.jobs.task import (
    LEASE_EXPIRED_ERROR,
    ArchivedTask,
    CancelOutcome,
    FailureOutcome,
    FailureResult,
    Lease,
    QueueStats,
    RecoveredTask,
    Task,
)
from vylux_core.ports.clock import Clock


class RedisTaskQueue:
    """asynq's queue semantics on Redis; each state change is one Lua script on one slot.

    Every time (deadlines, due times, ages) comes from ``clock`` and is passed to the
    scripts, never read from Redis, so a simulated clock drives the whole queue. The
    client's socket timeout must exceed ``wake_up.BLOCK_SLICE_SECONDS``.
    """

    def __init__(
        self,
        *,
        client: redis.asyncio.Redis,
        clock: Clock,
        rng: random.Random,
        prefix: str = "vylux",
    ) -> None:
        self._client = client
        self._clock = clock
        self._rng = rng
        self._prefix = prefix
        # The registered queues as last read: a guess that saves a round trip per enqueue.
        self._registered: set[str] = set()

    @cached_property
    def _scripts(self) -> QueueScripts:
        # Loaded on first use: the constructor does no I/O, not even reading files.
        return load_scripts(self._client)

    # --- producer side ---------------------------------------------------------------

    async def enqueue(self, task: Task) -> bool:
        keys = self._keys(task.queue)
        with queue_errors("enqueue"):
            if await self._register_and_find_elsewhere(task):
                return False
            now_ms = to_ms(self._clock.now())
            added = await run_and_wake(
                self._client,
                self._scripts.enqueue,
                keys=[keys.task(task.id), keys.pending],
                args=enqueue_args(task, now_ms),
                wake_key=keys.wake,
            )
        return bool(added)

    async def contains(self, task_id: str) -> bool:
        with queue_errors("contains"):
            return await self._held_in(task_id, await self._queues())

    async def cancel(self, task_id: str) -> CancelOutcome:
        with queue_errors("cancel"):
            for queue in await self._queues():
                keys = self._keys(queue)
                reply = await self._scripts.cancel(
                    keys=[keys.task(task_id), *keys.by_state], args=[task_id]
                )
                outcome = CancelOutcome(text(reply))
                if outcome is not CancelOutcome.NOT_FOUND:
                    return outcome
        return CancelOutcome.NOT_FOUND

    async def stats(self) -> list[QueueStats]:
        now = self._clock.now()
        result = []
        with queue_errors("stats"):
            for queue in await self._queues():
                keys = self._keys(queue)
                reply = await self._scripts.stats(keys=keys.by_state, args=[keys.task_prefix])
                result.append(decode_stats(queue, reply, now))
        return result

    async def list_archived(self, queue: str, limit: int) -> list[ArchivedTask]:
        if limit <= 0:
            return []
        keys = self._keys(queue)
        with queue_errors("list_archived"):
            ids = [text(raw) for raw in await self._client.zrevrange(keys.archived, 0, limit - 1)]
            async with self._client.pipeline(transaction=False) as pipe:
                for task_id in ids:
                    pipe.hmget(keys.task(task_id), ARCHIVED_FIELDS)
                rows = await pipe.execute()
        # Two reads, not one script: a task requeued or cancelled in between is skipped.
        archived = (decode_archived(task_id, row) for task_id, row in zip(ids, rows, strict=True))
        return [item for item in archived if item is not None]

    async def requeue_archived(self, task_id: str) -> bool:
        now_ms = to_ms(self._clock.now())
        with queue_errors("requeue_archived"):
            for queue in await self._queues():
                keys = self._keys(queue)
                moved = await self._scripts.requeue(
                    keys=[keys.task(task_id), keys.archived, keys.pending], args=[task_id, now_ms]
                )
                if moved:
                    await wake(self._client, keys.wake)
                    return True
        return False

    # --- consumer side -------------------------------------------------------------------

    async def dequeue_many(
        self, weights: Mapping[str, int], worker_id: str, lease_seconds: float, limit: int
    ) -> list[Lease]:
        now = self._clock.now()
        deadline_ms = to_ms(now + timedelta(seconds=lease_seconds))
        token_prefix = f"{self._rng.getrandbits(64):016x}"
        leases: list[Lease] = []
        with queue_errors("dequeue"):
            for queue in weighted_queue_order(weights, self._rng):
                if len(leases) >= limit:
                    break
                keys = self._keys(queue)
                # The script names lease n of this call "<base>-<n>" (n from 1).
                base = f"{token_prefix}.{len(leases)}"
                reply = await self._scripts.dequeue(
                    keys=[keys.pending, keys.active, keys.scheduled, keys.retry],
                    args=[
                        keys.task_prefix, to_ms(now), deadline_ms, worker_id, base,
                        limit - len(leases),
                    ],
                )  # fmt: skip
                for position, index in enumerate(range(0, len(reply), 7), start=1):
                    task_id, retried, *task_fields = reply[index : index + 7]
                    leases.append(
                        Lease(
                            task=decode_task(text(task_id), task_fields),
                            worker_id=worker_id,
                            token=f"{base}-{position}",
                            retried=int(retried),
                            deadline=from_ms(deadline_ms),
                        )
                    )
        return leases

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        now = self._clock.now()
        deadline_ms = to_ms(now + timedelta(seconds=lease_seconds))
        keys = self._keys(lease.task.queue)
        with queue_errors("heartbeat"):
            extended = await self._scripts.heartbeat(
                keys=[keys.task(lease.task.id), keys.active],
                args=[lease.task.id, lease.token, to_ms(now), deadline_ms],
            )
        return evolve(lease, deadline=from_ms(deadline_ms)) if extended else None

    async def ack(self, lease: Lease) -> None:
        keys = self._keys(lease.task.queue)
        with queue_errors("ack"):
            await self._scripts.ack(
                keys=[keys.task(lease.task.id), keys.active], args=[lease.task.id, lease.token]
            )

    async def fail(self, lease: Lease, error: str, *, permanent: bool) -> FailureResult:
        now = self._clock.now()
        # The token check in the script guarantees that lease.retried is still current.
        delay = TASK_BACKOFF.delay(lease.retried, self._rng.random())
        retry_at_ms = to_ms(now + timedelta(seconds=delay))
        keys = self._keys(lease.task.queue)
        with queue_errors("fail"):
            reply = await self._scripts.fail(
                keys=[keys.task(lease.task.id), keys.active, keys.retry, keys.archived],
                args=[
                    lease.task.id,
                    lease.token,
                    error,
                    to_ms(now),
                    retry_at_ms,
                    "1" if permanent else "0",
                ],
            )
        outcome = FailureOutcome(text(reply))
        if outcome is FailureOutcome.RETRY_SCHEDULED:
            return FailureResult(outcome, from_ms(retry_at_ms))
        return FailureResult(outcome)

    async def release(self, lease: Lease) -> None:
        keys = self._keys(lease.task.queue)
        with queue_errors("release"):
            await run_and_wake(
                self._client,
                self._scripts.release,
                keys=[keys.task(lease.task.id), keys.active, keys.pending],
                args=[lease.task.id, lease.token],
                wake_key=keys.wake,
            )

    async def recover_expired(self) -> list[RecoveredTask]:
        now = self._clock.now()
        recovered = []
        with queue_errors("recover_expired"):
            for queue in await self._queues():
                keys = self._keys(queue)
                # Deadlines are whole milliseconds: "before now" is "at most now - 1".
                expired = await self._client.zrangebyscore(keys.active, "-inf", to_ms(now) - 1)
                for raw_id in expired:
                    item = await self._expire(keys, text(raw_id))
                    if item is not None:
                        recovered.append(item)
        return recovered

    async def wait_for_work(self, queues: Collection[str], max_wait: float) -> None:
        all_keys = [self._keys(queue) for queue in queues]
        if not all_keys:
            # Nothing can wake a worker without queues; returning early would make it spin.
            await asyncio.sleep(max(max_wait, 0.0))
            return
        now_ms = to_ms(self._clock.now())
        with queue_errors("wait_for_work"):
            async with self._client.pipeline(transaction=False) as pipe:
                for keys in all_keys:
                    pipe.llen(keys.pending)
                    # Due retries become pending on the next dequeue: that is work too.
                    pipe.zcount(keys.retry, "-inf", now_ms)
                    pipe.zcount(keys.scheduled, "-inf", now_ms)
                waiting = await pipe.execute()
            if not any(waiting):
                await wait_for_token(self._client, [keys.wake for keys in all_keys], max_wait)

    # --- internals -------------------------------------------------------------------------

    def _keys(self, queue: str) -> QueueKeys:
        return QueueKeys(self._prefix, queue)

    async def _queues(self) -> list[str]:
        members = await self._client.smembers(registry_key(self._prefix))
        return sorted(text(name) for name in members)

    async def _register_and_find_elsewhere(self, task: Task) -> bool:
        """Register ``task.queue``; True when another queue already holds ``task.id``.

        Ids are unique across queues, but a script sees one queue (one slot) only, so
        the other queues are checked here. The check is not atomic with the enqueue
        script: two producers racing the same id into two queues can both win.
        """
        registry = registry_key(self._prefix)
        # Existence in the queues seen last time rides along in the same round trip.
        guessed = sorted(self._registered - {task.queue})
        async with self._client.pipeline(transaction=False) as pipe:
            # Registered first, so a task is never held in a queue that cancel can't see.
            pipe.sadd(registry, task.queue)
            pipe.smembers(registry)
            for queue in guessed:
                pipe.exists(self._keys(queue).task(task.id))
            _, members, *held = await pipe.execute()
        self._registered = {text(name) for name in members}
        unseen = sorted(self._registered - {task.queue, *guessed})
        return any(held) or await self._held_in(task.id, unseen)

    async def _held_in(self, task_id: str, queues: list[str]) -> bool:
        if not queues:
            return False
        async with self._client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.exists(self._keys(queue).task(task_id))
            return any(await pipe.execute())

    async def _expire(self, keys: QueueKeys, task_id: str) -> RecoveredTask | None:
        now = self._clock.now()
        retried, token = await self._client.hmget(keys.task(task_id), ["retried", "lease_token"])
        if retried is None or token is None:
            return None  # settled since the scan
        # The script re-checks the token, so this retry count is the one it will use.
        delay = TASK_BACKOFF.delay(int(retried), self._rng.random())
        reply = await self._scripts.expire(
            keys=[keys.task(task_id), keys.active, keys.retry, keys.archived],
            args=[
                task_id,
                token,
                to_ms(now),
                to_ms(now + timedelta(seconds=delay)),
                LEASE_EXPIRED_ERROR,
            ],
        )
        return None if reply is None else decode_recovered(task_id, reply)
