"""Taking one task from a queue, the way the worker pool takes a batch."""

from __future__ import annotations

from collections.abc import Mapping

from vylux_core.jobs.task import Lease
from vylux_core.ports.task_consumer import TaskConsumer


async def dequeue_one(
    consumer: TaskConsumer, weights: Mapping[str, int], worker_id: str, lease_seconds: float
) -> Lease | None:
    """One lease from ``consumer`` (a batch of one), or None when nothing is pending."""
    leases = await consumer.dequeue_many(weights, worker_id, lease_seconds, 1)
    return leases[0] if leases else None
