"""Task-queue rows turned into the core values the queue ports return."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from vylux_adapters.sql.job_store import as_utc
from vylux_core.jobs.task import ArchivedTask, Lease, QueueStats, Task, TaskState


def row_to_task(row: RowMapping) -> Task:
    return Task(
        id=row["id"],
        type=row["type"],
        queue=row["queue"],
        payload=row["payload"],
        max_retry=row["max_retry"],
        timeout_seconds=row["timeout_seconds"],
    )


def row_to_lease(row: RowMapping) -> Lease:
    return Lease(
        task=row_to_task(row),
        worker_id=row["worker_id"],
        token=row["lease_token"],
        retried=row["retried"],
        deadline=as_utc(row["deadline"]),
    )


def row_to_archived(row: RowMapping) -> ArchivedTask:
    return ArchivedTask(
        task=row_to_task(row),
        retried=row["retried"],
        last_error=row["last_error"] or "",
        archived_at=as_utc(row["archived_at"]),
    )


def rows_to_stats(
    queues: Iterable[str], by_state: Iterable[Any], now: datetime
) -> list[QueueStats]:
    """``by_state`` rows are (queue, state, count, earliest pending_since)."""
    counts: dict[tuple[str, str], int] = {}
    oldest: dict[str, datetime] = {}
    for queue, state, count, earliest in by_state:
        counts[(queue, state)] = count
        if state == TaskState.PENDING.value and earliest is not None:
            oldest[queue] = as_utc(earliest)

    def stats(queue: str) -> QueueStats:
        def count(state: TaskState) -> int:
            return counts.get((queue, state.value), 0)

        since = oldest.get(queue)
        return QueueStats(
            queue=queue,
            pending=count(TaskState.PENDING),
            active=count(TaskState.ACTIVE),
            scheduled=count(TaskState.SCHEDULED),
            retry=count(TaskState.RETRY),
            archived=count(TaskState.ARCHIVED),
            oldest_pending_age_seconds=0.0 if since is None else (now - since).total_seconds(),
        )

    return [stats(queue) for queue in queues]
