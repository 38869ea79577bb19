"""TaskConsumer port: the worker side of the task queue (leases and outcomes)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from vylux_core.jobs.task import FailureResult, Lease, RecoveredTask


class TaskConsumer(Protocol):
    async def dequeue_many(
        self, weights: Mapping[str, int], worker_id: str, lease_seconds: float, limit: int
    ) -> list[Lease]:
        """Atomically move up to ``limit`` pending tasks to active, each under its own
        lease; an empty list when nothing is pending.

        Queues are tried in :func:`~vylux_core.jobs.queue_routing.weighted_queue_order`, drawn
        once per call; FIFO within a queue. Due scheduled/retry tasks become pending first.
        A worker filling several free slots pays one round trip instead of one per task.
        """
        ...

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        """Extend the lease. None means the lease is lost (expired and taken back,
        or the task was cancelled): the worker must stop the task."""
        ...

    async def ack(self, lease: Lease) -> None:
        """The task succeeded: forget it. A lost lease is ignored."""
        ...

    async def fail(self, lease: Lease, error: str, *, permanent: bool) -> FailureResult:
        """Schedule a retry with back-off while retries remain and ``permanent`` is
        false; otherwise archive the task with ``error``."""
        ...

    async def release(self, lease: Lease) -> None:
        """Hand the task back to pending without counting an attempt (shutdown)."""
        ...

    async def recover_expired(self) -> list[RecoveredTask]:
        """Return tasks whose lease expired (their worker died) to the retry set,
        counting the attempt; archive those without retries left. A cancelled task
        whose lease expired is dropped (outcome CANCELLED). Returns what it did."""
        ...

    async def wait_for_work(self, queues: Collection[str], max_wait: float) -> None:
        """Return early when a task may have become pending in one of ``queues``
        (e.g. one was just enqueued), else after ``max_wait`` seconds. Spurious wake-ups
        are allowed; callers dequeue and wait again."""
        ...
