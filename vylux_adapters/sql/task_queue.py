"""SqlTaskQueue: both task-queue ports on PostgreSQL or SQLite (SQLAlchemy Core)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Collection, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from vylux_adapters.sql import task_statements as sql
from vylux_adapters.sql.errors import database_errors
from vylux_adapters.sql.schema import tasks
from vylux_adapters.sql.task_rows import row_to_archived, row_to_lease, row_to_task, rows_to_stats
from vylux_core.errors import DatabaseUnavailable, QueueUnavailable
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
    TaskState,
)
from vylux_core.ports.clock import Clock


class SqlTaskQueue:
    """asynq's semantics on one table, safe for many workers in many processes.

    Every change is a conditional statement on the task's current state (and, for a
    running task, its lease token) inside one short transaction, so a stale caller
    changes nothing. Every method raises ``QueueUnavailable`` when the database cannot
    be reached: callers see a queue outage, whatever backs the queue.

    ``poll_interval`` bounds how late this instance notices what other processes did:
    ``wait_for_work`` re-reads the table that often, and due retries of a queue are
    swept into pending at most that often (by clock time).
    """

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        clock: Clock,
        rng: random.Random,
        poll_interval: float = 0.2,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._rng = rng
        self._poll_interval = poll_interval
        self._sql = sql.TaskStatements(postgres=engine.dialect.name == "postgresql")
        # Per queue, the clock time of the last sweep that left no due task behind.
        self._swept_at: dict[str, datetime] = {}
        # Wakes this process's waiting workers at once (the embedded profile runs server
        # and worker in one process); other processes' enqueues are seen by polling.
        self._work_available = asyncio.Event()

    # --- producer side -------------------------------------------------------------

    async def enqueue(self, task: Task) -> bool:
        now = self._now()
        async with self._connection("enqueue task") as conn:
            position = await self._allocate_positions(conn, task.queue, 1)
            values = sql.new_task_values(task, position, now)
            created = (await conn.execute(self._sql.insert_task(values))).first() is not None
            # A refused duplicate rolls back (on close) and so leaves no trace: not even
            # the registration of a queue that then never held a task.
            if created:
                await conn.commit()
        if created:
            self._work_available.set()
        return created

    async def contains(self, task_id: str) -> bool:
        async with self._connection("look up task") as conn:
            row = (await conn.execute(select(tasks.c.id).where(tasks.c.id == task_id))).first()
        return row is not None

    async def cancel(self, task_id: str) -> CancelOutcome:
        async with self._transaction("cancel task") as conn:
            row = (await conn.execute(self._sql.state_of(task_id))).first()
            if row is None:
                return CancelOutcome.NOT_FOUND
            if row.state == TaskState.ACTIVE.value:
                await conn.execute(
                    update(tasks).where(tasks.c.id == task_id).values(cancel_requested=True)
                )
                return CancelOutcome.SIGNALLED
            await conn.execute(delete(tasks).where(tasks.c.id == task_id))
            return CancelOutcome.DELETED

    async def stats(self) -> list[QueueStats]:
        now = self._now()
        async with self._connection("read queue stats") as conn:
            queues = (await conn.execute(sql.queue_names())).scalars().all()
            by_state = (await conn.execute(sql.counts_by_state())).all()
        return rows_to_stats(queues, by_state, now)

    async def list_archived(self, queue: str, limit: int) -> list[ArchivedTask]:
        query = (
            select(tasks)
            .where(tasks.c.queue == queue, tasks.c.state == TaskState.ARCHIVED.value)
            .order_by(tasks.c.archived_at.desc(), tasks.c.id.desc())
            .limit(limit)
        )
        async with self._connection("list archived tasks") as conn:
            rows = (await conn.execute(query)).all()
        return [row_to_archived(row._mapping) for row in rows]

    async def requeue_archived(self, task_id: str) -> bool:
        now = self._now()
        async with self._transaction("requeue archived task") as conn:
            queue = (await conn.execute(self._sql.archived_queue(task_id))).scalar()
            if queue is None:
                return False
            position = await self._allocate_positions(conn, queue, 1)
            await conn.execute(
                update(tasks)
                .where(tasks.c.id == task_id, tasks.c.state == TaskState.ARCHIVED.value)
                .values(
                    state=TaskState.PENDING.value,
                    retried=0,
                    archived_at=None,
                    pending_since=now,
                    position=position,
                )
            )
        self._work_available.set()
        return True

    # --- consumer side ----------------------------------------------------------------

    async def dequeue_many(
        self, weights: Mapping[str, int], worker_id: str, lease_seconds: float, limit: int
    ) -> list[Lease]:
        leases: list[Lease] = []
        for queue in weighted_queue_order(weights, self._rng):
            if len(leases) >= limit:
                break
            leases += await self._take(queue, limit - len(leases), worker_id, lease_seconds)
        return leases

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        now = self._now()
        deadline = now + timedelta(seconds=lease_seconds)
        async with self._transaction("extend lease") as conn:
            row = (await conn.execute(sql.extend(lease, now, deadline))).first()
        return None if row is None else row_to_lease(row._mapping)

    async def ack(self, lease: Lease) -> None:
        async with self._transaction("acknowledge task") as conn:
            await conn.execute(delete(tasks).where(sql.owned(lease)))

    async def fail(self, lease: Lease, error: str, *, permanent: bool) -> FailureResult:
        now = self._now()
        async with self._transaction("fail task") as conn:
            return await self._end_attempt(
                conn, sql.owned(lease), lease.retried, lease.task.max_retry, error, now, permanent
            )

    async def release(self, lease: Lease) -> None:
        now = self._now()
        # Handed back on shutdown: it was first in line once, so it goes first again.
        back_in_line = {
            "state": TaskState.PENDING.value,
            "pending_since": now,
            "position": sql.first_pending_position(lease.task.queue),
        }
        async with self._transaction("release task") as conn:
            released = (await conn.execute(sql.settle(sql.owned(lease), back_in_line))).first()
            if released is None:
                await conn.execute(sql.drop_cancelled(sql.owned(lease)))
        if released is not None:
            self._work_available.set()

    async def recover_expired(self) -> list[RecoveredTask]:
        now = self._now()
        expired_query = (
            select(tasks)
            .where(tasks.c.state == TaskState.ACTIVE.value, tasks.c.deadline < now)
            .order_by(tasks.c.deadline, tasks.c.id)
        )
        async with self._connection("find expired leases") as conn:
            expired = [row._mapping for row in (await conn.execute(expired_query)).all()]
        recovered = []
        for row in expired:
            # The token and deadline pin the attempt we saw: if a concurrent recoverer
            # (or the worker) got there first, nothing matches and we skip the row.
            still_expired = and_(
                tasks.c.id == row["id"],
                tasks.c.lease_token == row["lease_token"],
                tasks.c.state == TaskState.ACTIVE.value,
                tasks.c.deadline < now,
            )
            async with self._transaction("recover expired lease") as conn:
                result = await self._end_attempt(
                    conn, still_expired, row["retried"], row["max_retry"], LEASE_EXPIRED_ERROR, now
                )
            if result.outcome is FailureOutcome.LEASE_LOST:
                continue
            cancelled = result.outcome is FailureOutcome.CANCELLED
            retried = row["retried"] if cancelled else row["retried"] + 1
            recovered.append(RecoveredTask(row_to_task(row), result.outcome, retried))
        return recovered

    async def wait_for_work(self, queues: Collection[str], max_wait: float) -> None:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + max_wait
        while True:
            # Cleared before looking, so a wake-up that lands after the look is kept.
            self._work_available.clear()
            async with self._connection("look for work") as conn:
                found = (await conn.execute(sql.has_work(queues, self._now()))).first()
            remaining = give_up_at - loop.time()
            if found is not None or remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._work_available.wait(), min(remaining, self._poll_interval)
                )
                return

    # --- internals ----------------------------------------------------------------------

    async def _take(
        self, queue: str, limit: int, worker_id: str, lease_seconds: float
    ) -> list[Lease]:
        now = self._now()
        token_prefix = f"{self._rng.getrandbits(64):016x}:"
        deadline = now + timedelta(seconds=lease_seconds)
        take = self._sql.take(queue, limit, worker_id, token_prefix, deadline)
        sweep = self._sweep_due(queue, now)
        async with self._transaction("dequeue task") as conn:
            swept_all = await self._promote_due(conn, queue, now) if sweep else False
            rows = (await conn.execute(take)).all()
        if swept_all:
            self._swept_at[queue] = now
        in_line = sorted(rows, key=lambda row: (row.position, row.id))
        return [row_to_lease(row._mapping) for row in in_line]

    def _sweep_due(self, queue: str, now: datetime) -> bool:
        # Like asynq's forwarder, due tasks are swept into pending periodically (here at
        # most every poll_interval per queue), not on every dequeue: it saves a query on
        # the hot path and delays a retry by at most poll_interval.
        swept_at = self._swept_at.get(queue)
        return swept_at is None or not 0 <= (now - swept_at).total_seconds() < self._poll_interval

    async def _promote_due(self, conn: AsyncConnection, queue: str, now: datetime) -> bool:
        """Move due retry/scheduled tasks of ``queue`` to its tail; False if some remain."""
        due = (await conn.execute(self._sql.due(queue, now))).scalars().all()
        if not due:
            return True
        last = await self._allocate_positions(conn, queue, len(due))
        first = last - len(due) + 1
        await conn.execute(
            sql.promote(),
            [
                {"due_id": task_id, "due_position": first + offset, "now": now}
                for offset, task_id in enumerate(due)
            ],
        )
        return len(due) < sql.PROMOTE_BATCH

    async def _allocate_positions(self, conn: AsyncConnection, queue: str, count: int) -> int:
        """Reserve ``count`` positions at the tail of ``queue``; returns the last one."""
        return int((await conn.execute(self._sql.allocate_positions(queue, count))).scalar_one())

    async def _end_attempt(
        self,
        conn: AsyncConnection,
        attempt: ColumnElement[bool],
        retried: int,
        max_retry: int,
        error: str,
        now: datetime,
        permanent: bool = False,
    ) -> FailureResult:
        changes: dict[str, Any] = {"retried": tasks.c.retried + 1, "last_error": error}
        if permanent or retried >= max_retry:
            changes |= {"state": TaskState.ARCHIVED.value, "archived_at": now, "due_at": None}
            result = FailureResult(FailureOutcome.ARCHIVED)
        else:
            delay = TASK_BACKOFF.delay(retried, self._rng.random())
            retry_at = now + timedelta(seconds=delay)
            changes |= {"state": TaskState.RETRY.value, "due_at": retry_at}
            result = FailureResult(FailureOutcome.RETRY_SCHEDULED, retry_at)
        if (await conn.execute(sql.settle(attempt, changes))).first() is not None:
            return result
        if (await conn.execute(sql.drop_cancelled(attempt))).first() is not None:
            return FailureResult(FailureOutcome.CANCELLED)
        return FailureResult(FailureOutcome.LEASE_LOST)

    def _now(self) -> datetime:
        # SQLite keeps no zone: every timestamp must be written in UTC to compare right.
        return self._clock.now().astimezone(UTC)

    @contextlib.asynccontextmanager
    async def _transaction(self, operation: str) -> AsyncIterator[AsyncConnection]:
        with _queue_errors(operation):
            async with self._engine.begin() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[AsyncConnection]:
        with _queue_errors(operation):
            async with self._engine.connect() as conn:
                yield conn


@contextlib.contextmanager
def _queue_errors(operation: str) -> Iterator[None]:
    try:
        with database_errors(operation):
            yield
    except DatabaseUnavailable as error:
        raise QueueUnavailable(f"task queue unavailable during {operation}") from error
