"""How a task is written in Redis and read back: hash fields, JSON, millisecond times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from vylux_core.jobs.task import ArchivedTask, FailureOutcome, QueueStats, RecoveredTask, Task

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

# A script that hands back a whole task returns these fields, in this order.
TASK_FIELDS = ("type", "payload", "queue", "max_retry", "timeout")
ARCHIVED_FIELDS = (*TASK_FIELDS, "state", "retried", "last_error", "archived_at")


def to_ms(moment: datetime) -> int:
    """Integer milliseconds since the epoch: scores and times inside Redis."""
    return (moment - _EPOCH) // _MILLISECOND


def from_ms(value: object) -> datetime:
    return _EPOCH + int(text(value)) * _MILLISECOND


def text(value: object) -> str:
    """A reply as ``str`` whether or not the client decodes responses."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"expected a string reply, got {type(value).__name__}")


def enqueue_args(task: Task, now_ms: int) -> list[str | int]:
    """ARGV of ``enqueue.lua``."""
    payload = json.dumps(task.payload, ensure_ascii=False, separators=(",", ":"))
    return [task.id, task.type, payload, task.queue, task.max_retry, task.timeout_seconds, now_ms]


def decode_task(task_id: str, fields: list[Any]) -> Task:
    """A task from its id and the values of ``TASK_FIELDS``."""
    task_type, payload, queue, max_retry, timeout = fields
    return Task(
        id=task_id,
        type=text(task_type),
        queue=text(queue),
        payload=json.loads(payload),
        max_retry=int(max_retry),
        timeout_seconds=int(timeout),
    )


def decode_recovered(task_id: str, reply: list[Any]) -> RecoveredTask:
    """``expire.lua``'s reply: {outcome, retried, *TASK_FIELDS}."""
    outcome, retried, *fields = reply
    return RecoveredTask(decode_task(task_id, fields), FailureOutcome(text(outcome)), int(retried))


def decode_archived(task_id: str, row: list[Any]) -> ArchivedTask | None:
    """The values of ``ARCHIVED_FIELDS``, or None when the task is no longer archived."""
    *fields, state, retried, last_error, archived_at = row
    if state is None or text(state) != "archived":
        return None
    return ArchivedTask(
        task=decode_task(task_id, fields),
        retried=int(retried),
        last_error=text(last_error),
        archived_at=from_ms(archived_at),
    )


def decode_stats(queue: str, reply: list[Any], now: datetime) -> QueueStats:
    """``stats.lua``'s reply: five counts and the head's pending_since ('' if none)."""
    pending, active, scheduled, retry, archived, since = reply
    age = (now - from_ms(since)).total_seconds() if text(since) else 0.0
    return QueueStats(
        queue=queue,
        pending=int(pending),
        active=int(active),
        scheduled=int(scheduled),
        retry=int(retry),
        archived=int(archived),
        # A clock that stepped back must not report a negative age.
        oldest_pending_age_seconds=max(age, 0.0),
    )
