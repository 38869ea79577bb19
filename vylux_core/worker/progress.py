"""Throttled progress reporting from a running job to its row."""

from __future__ import annotations

import logging

from vylux_core.errors import Unavailable
from vylux_core.ports.clock import Clock
from vylux_core.ports.job_store import JobStore

logger = logging.getLogger(__name__)


class ProgressReporter:
    """Writes progress at most every ``min_interval`` seconds, and only upwards.

    FFmpeg reports progress many times a second; a row update per report would make
    the database the bottleneck of a busy worker. Milestones use ``force``.

    Progress is advisory: a write that fails because the database is unavailable is
    logged and tried again with the next report, and the job carries on. Failing the
    attempt instead would throw away an hour of transcoding for a database blip.
    """

    def __init__(
        self, *, jobs: JobStore, job_id: str, clock: Clock, min_interval: float = 1.0
    ) -> None:
        self._jobs = jobs
        self._job_id = job_id
        self._clock = clock
        self._min_interval = min_interval
        self._written = -1
        self._written_at: float | None = None

    @property
    def last_written(self) -> int:
        return self._written

    async def report(self, percent: float, *, force: bool = False) -> None:
        value = max(0, min(100, int(percent)))
        if value <= self._written:
            return
        now = self._clock.now().timestamp()
        if (
            not force
            and self._written_at is not None
            and now - self._written_at < self._min_interval
        ):
            return
        try:
            await self._jobs.set_progress(self._job_id, value)
        except Unavailable as error:
            logger.warning("job %s: progress %d%% not recorded: %s", self._job_id, value, error)
            return
        self._written, self._written_at = value, now
