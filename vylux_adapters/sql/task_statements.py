"""The task queue's SQL statements, built for one dialect (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Insert,
    Select,
    Text,
    Update,
    and_,
    bindparam,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from vylux_adapters.sql.schema import task_queues, tasks
from vylux_core.jobs.task import Lease, Task, TaskState

_PENDING = TaskState.PENDING.value
_ACTIVE = TaskState.ACTIVE.value
_ARCHIVED = TaskState.ARCHIVED.value
_WAITING_FOR_TIME = (TaskState.RETRY.value, TaskState.SCHEDULED.value)
# Promotion moves at most this many due tasks per dequeue attempt; the rest follow on the
# next attempt. It bounds how long one attempt holds row locks after an outage.
PROMOTE_BATCH = 500

# Subqueries read the table under another name: SQLAlchemy would otherwise correlate
# them to the UPDATE's own ``tasks`` and drop their FROM.
_peer = tasks.alias("peer")


class TaskStatements:
    """Statements whose shape differs by dialect are built here, and only here."""

    def __init__(self, *, postgres: bool) -> None:
        # FOR UPDATE SKIP LOCKED lets concurrent workers pass each other's rows on
        # PostgreSQL; SQLite runs every transaction BEGIN IMMEDIATE, i.e. one at a time.
        self._postgres = postgres
        self._insert = postgresql.insert if postgres else sqlite.insert

    def _locked(self, query: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
        return query.with_for_update(skip_locked=skip_locked) if self._postgres else query

    def allocate_positions(self, queue: str, count: int) -> Insert:
        """Reserve ``count`` positions at the tail of ``queue``; returns the last one."""
        statement = self._insert(task_queues).values(name=queue, last_position=count)
        return statement.on_conflict_do_update(
            index_elements=[task_queues.c.name],
            set_={"last_position": task_queues.c.last_position + count},
        ).returning(task_queues.c.last_position)

    def insert_task(self, values: dict[str, Any]) -> Insert:
        statement = self._insert(tasks).values(**values)
        return statement.on_conflict_do_nothing(index_elements=[tasks.c.id]).returning(tasks.c.id)

    def due(self, queue: str, now: datetime) -> Select[Any]:
        query = (
            select(tasks.c.id)
            .where(
                tasks.c.queue == queue,
                tasks.c.state.in_(_WAITING_FOR_TIME),
                tasks.c.due_at <= now,
            )
            .order_by(tasks.c.due_at, tasks.c.id)
            .limit(PROMOTE_BATCH)
        )
        return self._locked(query, skip_locked=True)

    def take(
        self, queue: str, limit: int, worker_id: str, token_prefix: str, deadline: datetime
    ) -> Update:
        """Lease the first ``limit`` pending tasks of ``queue``; RETURNING is unordered."""
        head = self._locked(
            select(_peer.c.id)
            .where(_peer.c.queue == queue, _peer.c.state == _PENDING)
            .order_by(_peer.c.position, _peer.c.id)
            .limit(limit),
            skip_locked=True,
        )
        # Picked once: as a plain IN-subquery PostgreSQL may run the locking SELECT again
        # for every row it updates, and each run skips what the last one took, so more
        # than ``limit`` rows would be leased.
        chosen = head.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")
        return (
            update(tasks)
            .where(tasks.c.id.in_(select(chosen.c.id)), tasks.c.state == _PENDING)
            .values(
                state=_ACTIVE,
                worker_id=worker_id,
                # One random prefix per call, made unique per lease by the task id.
                lease_token=literal(token_prefix, Text) + tasks.c.id,
                deadline=deadline,
                pending_since=None,
            )
            .returning(*tasks.c)
        )

    def state_of(self, task_id: str) -> Select[Any]:
        return self._locked(select(tasks.c.state, tasks.c.queue).where(tasks.c.id == task_id))

    def archived_queue(self, task_id: str) -> Select[Any]:
        return self._locked(
            select(tasks.c.queue).where(tasks.c.id == task_id, tasks.c.state == _ARCHIVED)
        )


def promote() -> Update:
    """Executed many: one parameter set (``due_id``, ``due_position``, ``now``) per task."""
    return (
        update(tasks)
        .where(tasks.c.id == bindparam("due_id"))
        .values(
            state=_PENDING,
            due_at=None,
            pending_since=bindparam("now"),
            position=bindparam("due_position"),
        )
    )


def owned(lease: Lease) -> ColumnElement[bool]:
    """The row of ``lease``'s attempt: a later attempt carries another token."""
    return and_(
        tasks.c.id == lease.task.id,
        tasks.c.lease_token == lease.token,
        tasks.c.state == _ACTIVE,
    )


def not_cancelled() -> ColumnElement[bool]:
    return tasks.c.cancel_requested == false()


def extend(lease: Lease, now: datetime, deadline: datetime) -> Update:
    return (
        update(tasks)
        .where(owned(lease), not_cancelled(), tasks.c.deadline >= now)
        .values(deadline=deadline)
        .returning(*tasks.c)
    )


def settle(condition: ColumnElement[bool], values: dict[str, Any]) -> Update:
    """End an attempt that is still running and was not cancelled."""
    return (
        update(tasks)
        .where(condition, not_cancelled())
        .values(worker_id=None, lease_token=None, deadline=None, **values)
        .returning(tasks.c.id)
    )


def drop_cancelled(condition: ColumnElement[bool]) -> Executable:
    # cancel_requested only ever turns true while an attempt runs, so trying settle()
    # first and this second cannot both miss a row that is still owned.
    return delete(tasks).where(condition, tasks.c.cancel_requested == true()).returning(tasks.c.id)


def first_pending_position(queue: str) -> ColumnElement[Any]:
    """One before the head of ``queue``, or the row's own position if nothing waits."""
    head = (
        select(func.min(_peer.c.position) - 1)
        .where(_peer.c.queue == queue, _peer.c.state == _PENDING)
        .scalar_subquery()
    )
    return func.coalesce(head, tasks.c.position)


def has_work(queues: Collection[str], now: datetime) -> Select[Any]:
    """Pending tasks, or tasks whose retry is due (the next dequeue promotes them)."""
    return (
        select(tasks.c.id)
        .where(
            tasks.c.queue.in_(list(queues)),
            or_(
                tasks.c.state == _PENDING,
                and_(tasks.c.state.in_(_WAITING_FOR_TIME), tasks.c.due_at <= now),
            ),
        )
        .limit(1)
    )


def queue_names() -> Select[Any]:
    return select(task_queues.c.name).order_by(task_queues.c.name)


def counts_by_state() -> Select[Any]:
    return select(
        tasks.c.queue, tasks.c.state, func.count(), func.min(tasks.c.pending_since)
    ).group_by(tasks.c.queue, tasks.c.state)


def new_task_values(task: Task, position: int, now: datetime) -> dict[str, Any]:
    return {
        "id": task.id,
        "type": task.type,
        "queue": task.queue,
        "payload": task.payload,
        "max_retry": task.max_retry,
        "timeout_seconds": task.timeout_seconds,
        "state": _PENDING,
        "retried": 0,
        "position": position,
        "pending_since": now,
        "cancel_requested": False,
        "created_at": now,
    }
