"""TaskQueue port: the producer and operator side of the task queue."""

from __future__ import annotations

from typing import Protocol

from vylux_core.jobs.task import ArchivedTask, CancelOutcome, QueueStats, Task


class TaskQueue(Protocol):
    async def enqueue(self, task: Task) -> bool:
        """Queue ``task`` as pending. Idempotent on ``task.id``: returns False (and
        changes nothing) when a task with that id is already held in any state.

        Raises ``QueueUnavailable`` when the backend cannot be reached.
        """
        ...

    async def contains(self, task_id: str) -> bool:
        """True while the queue holds the task in any state."""
        ...

    async def cancel(self, task_id: str) -> CancelOutcome:
        """Delete a waiting task, or signal a running one to stop (its worker then
        drops it without retry). Idempotent."""
        ...

    async def stats(self) -> list[QueueStats]:
        """Per-queue counts by state, for every queue that holds or held tasks."""
        ...

    async def list_archived(self, queue: str, limit: int) -> list[ArchivedTask]:
        """Tasks that exhausted their retries or failed permanently, newest first."""
        ...

    async def requeue_archived(self, task_id: str) -> bool:
        """Move an archived task back to pending with its retry count reset."""
        ...
