"""JobRunner, LeaseRecoverer and Reconciler on the memory adapters."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import attrs
import pytest

from tests.support.queue import dequeue_one
from tests.support.results import image_artifact
from vylux_adapters.memory import ManualClock, MemoryJobStore, MemoryTaskQueue
from vylux_core.errors import (
    DatabaseUnavailable,
    MediaToolFailed,
    SourceMissing,
    UnsupportedMedia,
    WorkflowFailed,
)
from vylux_core.jobs.job import Job, JobStatus, JobType, NewJob
from vylux_core.jobs.results import Results
from vylux_core.jobs.task import Lease
from vylux_core.services import task_for_job
from vylux_core.worker import (
    AttemptOutcome,
    JobHandler,
    JobRunner,
    LeaseRecoverer,
    ProgressReporter,
    Reconciler,
)

WEIGHTS = {"critical": 6, "default": 3}


class World:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.jobs = MemoryJobStore(clock=self.clock)
        self.queue = MemoryTaskQueue(clock=self.clock, rng=random.Random(3))

    def runner(self, handler: JobHandler) -> JobRunner:
        return JobRunner(
            jobs=self.jobs, consumer=self.queue, handlers={JobType.COVER: handler},
            clock=self.clock,
        )  # fmt: skip

    async def submit(self, job_id: str = "job-1", *, max_retry: int = 3) -> Job:
        outcome = await self.jobs.create(
            NewJob(
                id=job_id, type=JobType.COVER, hash="h1", source="a.mp4", options={},
                request_fingerprint=f"fp-{job_id}", max_retry=max_retry,
            )
        )  # fmt: skip
        await self.queue.enqueue(task_for_job(outcome.job))
        return outcome.job

    async def take(self) -> Lease:
        lease = await dequeue_one(self.queue, WEIGHTS, "w1", 30)
        assert lease is not None
        return lease


def handler_returning(results: Results) -> JobHandler:
    async def handle(job: Job, progress: ProgressReporter) -> Results:
        await progress.report(50, force=True)
        return results

    return handle


def handler_raising(error: Exception) -> JobHandler:
    async def handle(job: Job, progress: ProgressReporter) -> Any:
        raise error

    return handle


async def test_success_completes_the_row_then_acks() -> None:
    world = World()
    await world.submit()
    runner = world.runner(handler_returning(image_artifact("videos/h1/h1/cover.jpg")))

    outcome = await runner.run(await world.take())

    job = await world.jobs.get("job-1")
    assert (outcome, job.status, job.progress, job.results) == (
        AttemptOutcome.COMPLETED, JobStatus.COMPLETED, 100, image_artifact("videos/h1/h1/cover.jpg")
    )  # fmt: skip
    assert not await world.queue.contains("job-1")


@pytest.mark.parametrize(
    ("error", "max_retry", "outcome", "status"),
    [
        pytest.param(MediaToolFailed("ffmpeg: boom"), 3, AttemptOutcome.RETRYING,
                     JobStatus.PROCESSING, id="transient-retries-row-stays-processing"),
        pytest.param(MediaToolFailed("ffmpeg: boom"), 0, AttemptOutcome.FAILED,
                     JobStatus.FAILED, id="no-retry-left-fails-row"),
        pytest.param(SourceMissing("source object not found"), 3, AttemptOutcome.FAILED,
                     JobStatus.FAILED, id="permanent-error-fails-at-once"),
        pytest.param(UnsupportedMedia("unsupported codec: av1 (no decoder)"), 3,
                     AttemptOutcome.FAILED, JobStatus.FAILED, id="unsupported-media-fails-at-once"),
    ],
)  # fmt: skip
async def test_failures_follow_the_queue(
    error: Exception, max_retry: int, outcome: AttemptOutcome, status: JobStatus
) -> None:
    world = World()
    await world.submit(max_retry=max_retry)

    result = await world.runner(handler_raising(error)).run(await world.take())

    job = await world.jobs.get("job-1")
    assert (result, job.status, job.error) == (outcome, status, str(error))


async def test_failed_workflow_keeps_its_results_on_the_row() -> None:
    world = World()
    await world.submit(max_retry=0)
    kept = image_artifact("videos/h1/h1/cover.jpg")
    error = WorkflowFailed("extract cover: boom", results=kept, permanent=False)

    await world.runner(handler_raising(error)).run(await world.take())

    job = await world.jobs.get("job-1")
    assert (job.status, job.results) == (JobStatus.FAILED, kept)


async def test_error_messages_are_bounded() -> None:
    world = World()
    await world.submit(max_retry=0)

    await world.runner(handler_raising(MediaToolFailed("x" * 50_000))).run(await world.take())

    assert len((await world.jobs.get("job-1")).error or "") == 2000


async def test_attempt_timeout_is_a_failure() -> None:
    world = World()
    await world.submit(max_retry=0)
    lease = await world.take()
    impatient = attrs.evolve(lease, task=attrs.evolve(lease.task, timeout_seconds=0))

    async def slow(job: Job, progress: ProgressReporter) -> Any:
        await asyncio.sleep(5)

    outcome = await world.runner(slow).run(impatient)

    assert outcome is AttemptOutcome.FAILED
    assert (await world.jobs.get("job-1")).error == "attempt exceeded 0 s"


async def test_a_purged_or_finished_job_is_skipped_and_acked() -> None:
    world = World()
    await world.submit()
    await world.jobs.delete_by_hash("h1")

    outcome = await world.runner(handler_returning(image_artifact())).run(await world.take())

    assert outcome is AttemptOutcome.SKIPPED
    assert not await world.queue.contains("job-1")


async def test_progress_is_throttled_and_only_rises() -> None:
    world = World()
    job = await world.submit()
    progress = ProgressReporter(jobs=world.jobs, job_id=job.id, clock=world.clock, min_interval=1)

    await progress.report(10)
    await progress.report(20)  # too soon
    world.clock.advance(1)
    await progress.report(15)  # lower
    await progress.report(30)
    await progress.report(40, force=True)

    assert ((await world.jobs.get(job.id)).progress, progress.last_written) == (40, 40)


class ProgressOutage:
    """A job store whose progress writes fail as an unreachable database does."""

    def __init__(self, inner: MemoryJobStore) -> None:
        self._inner = inner
        self.down = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def set_progress(self, job_id: str, progress: int) -> None:
        if self.down:
            raise DatabaseUnavailable("database unavailable during update job")
        await self._inner.set_progress(job_id, progress)


async def test_a_progress_write_during_a_database_outage_does_not_fail_the_job() -> None:
    """Regression (issue #9, outages): a progress write that hit a database outage failed
    the attempt, costing it a retry (and a 10 s back-off) for advisory data."""
    world = World()
    job = await world.submit()
    store = ProgressOutage(world.jobs)
    progress = ProgressReporter(jobs=store, job_id=job.id, clock=world.clock, min_interval=1)

    await progress.report(40, force=True)  # refused: not recorded, no error
    store.down = False
    await progress.report(50)  # the next report writes

    assert ((await world.jobs.get(job.id)).progress, progress.last_written) == (50, 50)


async def test_lease_recoverer_brings_rows_along() -> None:
    world = World()
    await world.submit("job-1", max_retry=1)
    await world.submit("job-2", max_retry=0)
    for _ in range(2):
        await world.jobs.mark_processing((await world.take()).task.id)
    world.clock.advance(31)

    recovered = await LeaseRecoverer(
        consumer=world.queue, jobs=world.jobs, clock=world.clock
    ).tick()

    first, second = await world.jobs.get("job-1"), await world.jobs.get("job-2")
    assert recovered == 2
    assert (first.status, second.status) == (JobStatus.PROCESSING, JobStatus.FAILED)
    assert "lease expired" in (first.error or "")


async def test_reconciler_enqueues_what_the_queue_lost() -> None:
    world = World()
    orphan = await world.jobs.create(
        NewJob(id="orphan", type=JobType.COVER, hash="h2", source="b.mp4", options={},
               request_fingerprint="fp-orphan")
    )  # fmt: skip
    stuck = await world.submit("stuck")
    await world.jobs.mark_processing(stuck.id)
    await world.queue.cancel(stuck.id)  # as if Redis lost it
    await world.submit("healthy")
    reconciler = Reconciler(jobs=world.jobs, queue=world.queue, clock=world.clock, grace=30)

    too_early = await reconciler.tick()
    world.clock.advance(31)
    repaired = await reconciler.tick()

    assert (too_early, repaired) == (0, 2)
    assert await world.queue.contains(orphan.job.id)
    assert (await world.jobs.get("stuck")).status is JobStatus.QUEUED
    assert await reconciler.tick() == 0
