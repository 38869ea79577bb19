"""Throughput for the operator: jobs that finished recently, per queue and status.

The queue keeps no history of what it ran; the job rows do, so throughput is counted
from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from attrs import frozen

from vylux_core.jobs.job import JobStatus
from vylux_core.ports.clock import Clock
from vylux_core.ports.job_store import JobStore

THROUGHPUT_WINDOW = timedelta(hours=1)


@frozen(kw_only=True)
class FinishedJobs:
    jobs: JobStore
    clock: Clock

    async def in_window(self) -> Mapping[tuple[str, JobStatus], int]:
        """Jobs finished within :data:`THROUGHPUT_WINDOW`, per ``(queue, status)``."""
        return await self.jobs.count_finished_since(self.clock.now() - THROUGHPUT_WINDOW)
