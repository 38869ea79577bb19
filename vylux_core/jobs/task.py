"""Queue tasks and leases: what the TaskQueue ports carry."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from attrs import frozen


@frozen(kw_only=True)
class Task:
    """A unit of queued work; ``id`` is the job id, which makes enqueue idempotent."""

    id: str
    type: str
    queue: str
    payload: dict[str, Any]
    max_retry: int
    timeout_seconds: int


class TaskState(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SCHEDULED = "scheduled"
    RETRY = "retry"
    ARCHIVED = "archived"


@frozen(kw_only=True)
class Lease:
    """A dequeued task held by one worker until ``deadline`` unless heartbeats extend it.

    ``retried`` counts attempts that already failed (0 on the first attempt). ``token``
    is unique per dequeue: a lease that was lost (expired and taken back) never matches
    a later attempt of the same task, even one taken by the same worker.
    """

    task: Task
    worker_id: str
    token: str
    retried: int
    deadline: datetime


class FailureOutcome(enum.StrEnum):
    RETRY_SCHEDULED = "retry_scheduled"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"  # the task was cancelled while running: dropped, no retry
    LEASE_LOST = "lease_lost"  # the lease had expired and was taken back: nothing changed


@frozen
class FailureResult:
    outcome: FailureOutcome
    retry_at: datetime | None = None


LEASE_EXPIRED_ERROR = "lease expired: the worker stopped sending heartbeats"
"""The last error every queue records on a task whose lease expired."""


@frozen
class RecoveredTask:
    """A task whose lease expired, and what became of it (retry or archive)."""

    task: Task
    outcome: FailureOutcome
    retried: int


class CancelOutcome(enum.StrEnum):
    DELETED = "deleted"  # it was waiting (pending/scheduled/retry/archived) and is gone
    SIGNALLED = "signalled"  # it is running; its worker will see the cancellation
    NOT_FOUND = "not_found"


@frozen(kw_only=True)
class QueueStats:
    queue: str
    pending: int
    active: int
    scheduled: int
    retry: int
    archived: int
    oldest_pending_age_seconds: float


@frozen(kw_only=True)
class ArchivedTask:
    task: Task
    retried: int
    last_error: str
    archived_at: datetime
