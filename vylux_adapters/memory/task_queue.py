"""MemoryTaskQueue: both task-queue ports (producer and consumer) in one process."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from attrs import define

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


@define(kw_only=True)
class _Record:
    task: Task
    state: TaskState
    retried: int = 0
    worker_id: str | None = None
    lease_token: str | None = None
    deadline: datetime | None = None
    due_at: datetime | None = None
    pending_since: datetime | None = None
    last_error: str = ""
    archived_at: datetime | None = None
    cancel_requested: bool = False


class MemoryTaskQueue:
    """asynq's semantics on plain dicts; every method is atomic on one event loop."""

    def __init__(self, *, clock: Clock, rng: random.Random) -> None:
        self._clock = clock
        self._rng = rng
        self._records: dict[str, _Record] = {}
        self._pending: dict[str, deque[str]] = {}
        self._work_available = asyncio.Event()

    # --- producer side -------------------------------------------------------------

    async def enqueue(self, task: Task) -> bool:
        if task.id in self._records:
            return False
        self._records[task.id] = _Record(task=task, state=TaskState.PENDING)
        self._push_pending(task.id, front=False)
        return True

    async def contains(self, task_id: str) -> bool:
        return task_id in self._records

    async def cancel(self, task_id: str) -> CancelOutcome:
        record = self._records.get(task_id)
        if record is None:
            return CancelOutcome.NOT_FOUND
        if record.state is TaskState.ACTIVE:
            record.cancel_requested = True
            return CancelOutcome.SIGNALLED
        self._remove(task_id)
        return CancelOutcome.DELETED

    async def stats(self) -> list[QueueStats]:
        now = self._clock.now()
        # Every enqueued task passes through _pending, so its keys are the queues that held tasks.
        queues = sorted(self._pending)
        return [self._queue_stats(queue, now) for queue in queues]

    async def list_archived(self, queue: str, limit: int) -> list[ArchivedTask]:
        archived = [
            ArchivedTask(
                task=record.task,
                retried=record.retried,
                last_error=record.last_error,
                archived_at=record.archived_at,
            )
            for record in self._records.values()
            if record.state is TaskState.ARCHIVED
            and record.task.queue == queue
            and record.archived_at is not None
        ]
        archived.sort(key=lambda item: item.archived_at, reverse=True)
        return archived[:limit]

    async def requeue_archived(self, task_id: str) -> bool:
        record = self._records.get(task_id)
        if record is None or record.state is not TaskState.ARCHIVED:
            return False
        record.state, record.retried, record.archived_at = TaskState.PENDING, 0, None
        self._push_pending(task_id, front=False)
        return True

    # --- consumer side ----------------------------------------------------------------

    async def dequeue_many(
        self, weights: Mapping[str, int], worker_id: str, lease_seconds: float, limit: int
    ) -> list[Lease]:
        self._promote_due()
        leases: list[Lease] = []
        for queue in weighted_queue_order(weights, self._rng):
            pending = self._pending.get(queue)
            while pending and len(leases) < limit:
                record = self._records[pending.popleft()]
                record.state = TaskState.ACTIVE
                record.worker_id = worker_id
                record.lease_token = f"{self._rng.getrandbits(64):016x}"
                record.pending_since = None
                record.deadline = self._clock.now() + timedelta(seconds=lease_seconds)
                leases.append(self._lease(record))
        return leases

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        record = self._owned(lease)
        if record is None or record.cancel_requested:
            return None
        if record.deadline is not None and record.deadline < self._clock.now():
            return None
        record.deadline = self._clock.now() + timedelta(seconds=lease_seconds)
        return self._lease(record)

    async def ack(self, lease: Lease) -> None:
        if self._owned(lease) is not None:
            self._remove(lease.task.id)

    async def fail(self, lease: Lease, error: str, *, permanent: bool) -> FailureResult:
        record = self._owned(lease)
        if record is None:
            return FailureResult(FailureOutcome.LEASE_LOST)
        if record.cancel_requested:
            self._remove(lease.task.id)
            return FailureResult(FailureOutcome.CANCELLED)
        return self._record_failure(record, error, permanent=permanent)

    async def release(self, lease: Lease) -> None:
        record = self._owned(lease)
        if record is None:
            return
        if record.cancel_requested:
            self._remove(lease.task.id)
            return
        record.state, record.worker_id, record.deadline = TaskState.PENDING, None, None
        record.lease_token = None
        # Handed back on shutdown: it was first in line once, so it goes first again.
        self._push_pending(lease.task.id, front=True)

    async def recover_expired(self) -> list[RecoveredTask]:
        now = self._clock.now()
        expired = [
            record
            for record in self._records.values()
            if record.state is TaskState.ACTIVE
            and record.deadline is not None
            and record.deadline < now
        ]
        recovered = []
        for record in expired:
            if record.cancel_requested:
                self._remove(record.task.id)
                outcome = FailureOutcome.CANCELLED
            else:
                failure = self._record_failure(record, LEASE_EXPIRED_ERROR, permanent=False)
                outcome = failure.outcome
            recovered.append(RecoveredTask(record.task, outcome, record.retried))
        return recovered

    async def wait_for_work(self, queues: Collection[str], max_wait: float) -> None:
        self._work_available.clear()
        if any(self._pending.get(queue) for queue in queues):
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._work_available.wait(), max_wait)

    # --- internals ----------------------------------------------------------------------

    def _record_failure(self, record: _Record, error: str, *, permanent: bool) -> FailureResult:
        now = self._clock.now()
        record.last_error = error
        record.worker_id, record.lease_token, record.deadline = None, None, None
        if permanent or record.retried >= record.task.max_retry:
            record.retried += 1
            record.state, record.archived_at = TaskState.ARCHIVED, now
            return FailureResult(FailureOutcome.ARCHIVED)
        delay = TASK_BACKOFF.delay(record.retried, self._rng.random())
        record.retried += 1
        record.state, record.due_at = TaskState.RETRY, now + timedelta(seconds=delay)
        return FailureResult(FailureOutcome.RETRY_SCHEDULED, record.due_at)

    def _promote_due(self) -> None:
        now = self._clock.now()
        due = [
            record
            for record in self._records.values()
            if record.state in (TaskState.RETRY, TaskState.SCHEDULED)
            and record.due_at is not None
            and record.due_at <= now
        ]
        due.sort(key=lambda record: record.due_at or now)
        for record in due:
            record.state, record.due_at = TaskState.PENDING, None
            self._push_pending(record.task.id, front=False)

    def _push_pending(self, task_id: str, *, front: bool) -> None:
        record = self._records[task_id]
        record.pending_since = record.pending_since or self._clock.now()
        pending = self._pending.setdefault(record.task.queue, deque())
        if front:
            pending.appendleft(task_id)
        else:
            pending.append(task_id)
        self._work_available.set()

    def _remove(self, task_id: str) -> None:
        record = self._records.pop(task_id)
        pending = self._pending.get(record.task.queue)
        if pending is not None and task_id in pending:
            pending.remove(task_id)

    def _owned(self, lease: Lease) -> _Record | None:
        record = self._records.get(lease.task.id)
        if record is None or record.state is not TaskState.ACTIVE:
            return None
        return record if record.lease_token == lease.token else None

    def _lease(self, record: _Record) -> Lease:
        if record.worker_id is None or record.lease_token is None or record.deadline is None:
            raise RuntimeError(f"task {record.task.id} is not leased")
        return Lease(
            task=record.task,
            worker_id=record.worker_id,
            token=record.lease_token,
            retried=record.retried,
            deadline=record.deadline,
        )

    def _queue_stats(self, queue: str, now: datetime) -> QueueStats:
        records = [record for record in self._records.values() if record.task.queue == queue]
        counts = {state: 0 for state in TaskState}
        for record in records:
            counts[record.state] += 1
        oldest = min(
            (r.pending_since for r in records if r.state is TaskState.PENDING and r.pending_since),
            default=None,
        )
        return QueueStats(
            queue=queue,
            pending=counts[TaskState.PENDING],
            active=counts[TaskState.ACTIVE],
            scheduled=counts[TaskState.SCHEDULED],
            retry=counts[TaskState.RETRY],
            archived=counts[TaskState.ARCHIVED],
            oldest_pending_age_seconds=0.0 if oldest is None else (now - oldest).total_seconds(),
        )
