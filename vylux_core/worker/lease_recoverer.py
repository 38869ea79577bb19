"""LeaseRecoverer: finds tasks whose worker died and brings their job rows along."""

from __future__ import annotations

import logging

from vylux_core.errors import IllegalTransition, JobNotFound
from vylux_core.jobs.task import FailureOutcome
from vylux_core.ports.clock import Clock
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.worker.job_runner import fail_for_good
from vylux_core.worker.periodic import run_periodically

logger = logging.getLogger(__name__)

WORKER_LOST_ERROR = "the worker running this job stopped responding (lease expired)"


class LeaseRecoverer:
    def __init__(
        self, *, consumer: TaskConsumer, jobs: JobStore, clock: Clock, interval: float = 5.0
    ) -> None:
        self._consumer = consumer
        self._jobs = jobs
        self._clock = clock
        self._interval = interval

    async def tick(self) -> int:
        """One pass; returns how many tasks were recovered."""
        recovered = await self._consumer.recover_expired()
        for item in recovered:
            job_id = item.task.id  # a task's id is its job's id
            try:
                match item.outcome:
                    case FailureOutcome.ARCHIVED:
                        await fail_for_good(self._jobs, job_id, WORKER_LOST_ERROR)
                    case FailureOutcome.CANCELLED:
                        await self._jobs.cancel(job_id)
                    case _:
                        await self._jobs.record_attempt_error(job_id, WORKER_LOST_ERROR)
            except (JobNotFound, IllegalTransition):
                continue  # purged, or finished by the attempt we thought was lost
            logger.warning("recovered job %s from a lost worker: %s", job_id, item.outcome)
        return len(recovered)

    async def run(self) -> None:
        await run_periodically(
            self.tick, clock=self._clock, interval=self._interval, name="lease recovery"
        )
