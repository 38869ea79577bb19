"""Reconciler: the database is the truth; re-enqueue jobs the queue lost or never got."""

from __future__ import annotations

import logging
from datetime import timedelta

from vylux_core.errors import IllegalTransition, JobNotFound
from vylux_core.jobs.job import JobStatus
from vylux_core.ports.clock import Clock
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.services.job_service import task_for_job
from vylux_core.worker.periodic import run_periodically
from vylux_core.worker.reconcile_schedule import DEFAULT_RECONCILE_GRACE, DEFAULT_RECONCILE_INTERVAL

logger = logging.getLogger(__name__)


class Reconciler:
    """Repairs two gaps: a crash between writing a job row and enqueueing its task,
    and a queue backend that lost its data (a wiped Redis).

    ``grace`` keeps it away from jobs created a moment ago whose enqueue is still in
    flight. A ``processing`` row without a task goes back to ``queued`` first.
    """

    def __init__(
        self,
        *,
        jobs: JobStore,
        queue: TaskQueue,
        clock: Clock,
        grace: float = DEFAULT_RECONCILE_GRACE,
        batch: int = 500,
        interval: float = DEFAULT_RECONCILE_INTERVAL,
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._clock = clock
        self._grace = timedelta(seconds=grace)
        self._batch = batch
        self._interval = interval

    async def tick(self) -> int:
        """One pass; returns how many jobs were re-enqueued."""
        cutoff = self._clock.now() - self._grace
        repaired = 0
        for status in (JobStatus.QUEUED, JobStatus.PROCESSING):
            for job in await self._jobs.list_by_status(status, self._batch):
                if job.updated_at > cutoff or await self._queue.contains(job.id):
                    continue
                try:
                    if status is JobStatus.PROCESSING:
                        job = await self._jobs.requeue(job.id)
                except (JobNotFound, IllegalTransition):
                    continue
                if await self._queue.enqueue(task_for_job(job)):
                    repaired += 1
                    logger.warning("re-enqueued job %s that the queue did not hold", job.id)
        return repaired

    async def run(self) -> None:
        await run_periodically(
            self.tick, clock=self._clock, interval=self._interval, name="reconcile"
        )
