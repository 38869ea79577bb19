"""The toolchain's synchronous progress callback reaches the job row as reports arrive."""

from __future__ import annotations

import asyncio

from vylux_adapters.memory import ManualClock, MemoryJobStore, MemoryWebhookOutbox
from vylux_core.jobs.job import JobType, NewJob
from vylux_core.worker import ProgressReporter
from vylux_core.workflows.video_steps import relayed


async def test_reports_are_written_without_waiting_on_a_timer() -> None:
    clock = ManualClock()
    jobs = MemoryJobStore(clock=clock, outbox=MemoryWebhookOutbox())
    created = await jobs.create(
        NewJob(id="job-1", type=JobType.TRANSCODE, hash="abcdef1234567890",
               source="uploads/in", options={}, request_fingerprint="fp")
    )  # fmt: skip
    await jobs.mark_processing(created.job.id)
    progress = ProgressReporter(jobs=jobs, job_id="job-1", clock=clock, min_interval=1)

    async with relayed(progress, (20, 80)) as report:
        report(0.5)
        for _ in range(10):
            await asyncio.sleep(0)
        first = (await jobs.get("job-1")).progress
        clock.advance(1)
        report(2.0)  # clamped to the span's end
        for _ in range(10):
            await asyncio.sleep(0)
        second = (await jobs.get("job-1")).progress

    assert (first, second) == (50, 80)
