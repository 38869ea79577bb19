"""WorkerPool on the memory adapters with real (short) time: heartbeats, cancellation,
concurrency and graceful shutdown."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from tests.support.deadlines import scaled
from tests.support.queue import dequeue_one
from tests.support.results import image_artifact
from vylux_adapters.memory import MemoryJobStore, MemoryObjectStore, MemoryTaskQueue
from vylux_adapters.system import SystemClock
from vylux_adapters.worker.pool import PoolSettings, WorkerPool
from vylux_core.errors import DatabaseUnavailable
from vylux_core.jobs.job import Job, JobStatus, JobType, NewJob
from vylux_core.services import task_for_job
from vylux_core.worker import JobHandler, JobRunner, LeaseRecoverer, ProgressReporter
from vylux_core.worker.attempt_outputs import RecordingObjectStore


class DatabaseOutage:
    """A job store whose ``mark_processing`` fails as an unreachable database does while
    ``down`` is set; everything else goes to the memory store."""

    def __init__(self, inner: MemoryJobStore) -> None:
        self._inner = inner
        self.down = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def mark_processing(self, job_id: str) -> Job:
        if self.down:
            self.refused += 1
            raise DatabaseUnavailable("database unavailable: connection refused")
        return await self._inner.mark_processing(job_id)


class Harness:
    def __init__(
        self, handler: JobHandler, *, media: MemoryObjectStore | None = None, **settings: Any
    ) -> None:
        self.clock = SystemClock()
        self.jobs = MemoryJobStore(clock=self.clock)
        self.outage = DatabaseOutage(self.jobs)
        self.queue = MemoryTaskQueue(clock=self.clock, rng=random.Random(5))
        self.media = media or MemoryObjectStore()
        runner = JobRunner(
            jobs=self.outage, consumer=self.queue, handlers={JobType.COVER: handler},
            clock=self.clock, outputs=self.media,
        )  # fmt: skip
        defaults: dict[str, Any] = {
            "name": "main", "weights": {"critical": 6, "default": 3}, "concurrency": 2,
            "lease_seconds": 0.4, "heartbeat_interval": 0.1, "idle_wait": 0.05,
            "shutdown_timeout": 5.0,
        }  # fmt: skip
        self.pool = WorkerPool(
            consumer=self.queue, jobs=self.outage, runner=runner,
            settings=PoolSettings(**{**defaults, **settings}), worker_id="test-worker",
        )  # fmt: skip

    async def submit(self, job_id: str) -> None:
        created = await self.jobs.create(
            NewJob(id=job_id, type=JobType.COVER, hash="h", source="s.mp4", options={},
                   request_fingerprint=f"fp-{job_id}")
        )  # fmt: skip
        await self.queue.enqueue(task_for_job(created.job))

    async def statuses(self, *ids: str) -> list[JobStatus]:
        return [(await self.jobs.get(job_id)).status for job_id in ids]

    async def start(self, job_id: str, reached: asyncio.Event) -> asyncio.Task[None]:
        """Submits ``job_id`` and runs the pool until the handler sets ``reached``."""
        await self.submit(job_id)
        runner = asyncio.create_task(self.pool.run())
        await asyncio.wait_for(reached.wait(), 5)
        return runner

    async def assert_handed_back(self, job_id: str) -> None:
        """``job_id`` is queued again for the next worker, no attempt counted."""
        lease = await dequeue_one(self.queue, {"default": 1}, "next-worker", 10)
        assert lease is not None
        assert (lease.task.id, lease.retried) == (job_id, 0)
        assert await self.statuses(job_id) == [JobStatus.QUEUED]


def runs_forever(started: asyncio.Event, seconds: float = 60) -> JobHandler:
    """A handler that sets ``started``, then runs longer than the test waits."""

    async def forever(job: Job, progress: ProgressReporter) -> Any:
        started.set()
        await asyncio.sleep(seconds)

    return forever


async def wait_until(predicate: Any) -> None:
    async with asyncio.timeout(scaled(5.0)):
        while not await predicate():
            await asyncio.sleep(0.02)


async def test_runs_every_task_with_bounded_concurrency() -> None:
    running, peak = 0, 0

    async def handle(job: Job, progress: ProgressReporter) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        return image_artifact(f"videos/h/{job.id}/cover.jpg")

    harness = Harness(handle, concurrency=3)
    ids = [f"job-{n}" for n in range(10)]
    for job_id in ids:
        await harness.submit(job_id)
    runner = asyncio.create_task(harness.pool.run())

    async def all_done() -> bool:
        return set(await harness.statuses(*ids)) == {JobStatus.COMPLETED}

    await wait_until(all_done)
    harness.pool.stop()
    await runner
    assert peak == 3


async def test_heartbeats_keep_a_task_longer_than_its_lease() -> None:
    calls = 0

    async def long_task(job: Job, progress: ProgressReporter) -> Any:
        nonlocal calls
        calls += 1
        await asyncio.sleep(2.5)  # two and a half times the lease
        return image_artifact()

    # Heartbeats every 0.1 s keep a 1 s lease: only a loop stalled for most of a second
    # (far beyond a busy machine's scheduling) would let it lapse.
    harness = Harness(long_task, lease_seconds=1.0)
    recoverer = LeaseRecoverer(consumer=harness.queue, jobs=harness.jobs, clock=harness.clock)
    await harness.submit("job-1")
    runner = asyncio.create_task(harness.pool.run())
    recovered = 0
    async with asyncio.timeout(scaled(10.0)):
        while not await _is(harness, "job-1", JobStatus.COMPLETED):
            await asyncio.sleep(0.1)
            recovered += await recoverer.tick()
    await wait_until(lambda: _is(harness, "job-1", JobStatus.COMPLETED))
    harness.pool.stop()
    await runner
    assert (calls, recovered) == (1, 0)


async def test_cancelling_a_running_task_stops_it_and_cancels_the_row() -> None:
    started = asyncio.Event()
    harness = Harness(runs_forever(started))
    runner = await harness.start("job-1", started)

    await harness.queue.cancel("job-1")

    await wait_until(lambda: _is(harness, "job-1", JobStatus.CANCELED))
    harness.pool.stop()
    await runner
    assert not await harness.queue.contains("job-1")


async def test_a_cancelled_row_stops_its_attempt_even_if_the_queue_missed_the_cancel() -> None:
    """The row is the source of truth: a cancel whose queue call failed (queue down)
    still stops the attempt at the next heartbeat, and the task is dropped, not retried."""
    started = asyncio.Event()
    stopped = asyncio.Event()
    calls = 0

    async def forever(job: Job, progress: ProgressReporter) -> Any:
        nonlocal calls
        calls += 1
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.set()
            raise

    harness = Harness(forever)
    runner = await harness.start("job-1", started)

    await harness.jobs.cancel("job-1")  # the row only: the queue never hears of it

    await asyncio.wait_for(stopped.wait(), 5)
    await wait_until(lambda: _gone(harness, "job-1"))
    harness.pool.stop()
    await runner
    assert (calls, await harness.statuses("job-1")) == (1, [JobStatus.CANCELED])


async def test_a_cancelled_attempt_deletes_what_it_uploaded_and_nothing_else() -> None:
    uploaded = asyncio.Event()
    media = MemoryObjectStore()
    recorded = RecordingObjectStore(media)

    async def uploads_then_waits(job: Job, progress: ProgressReporter) -> Any:
        async def put(key: str) -> None:
            await recorded.put_bytes(key, b"x", content_type="video/mp4")

        async with asyncio.TaskGroup() as group:  # writes from child tasks count too
            group.create_task(put(f"videos/{job.id}/a.m4s"))
            group.create_task(put(f"videos/{job.id}/b.m4s"))
        uploaded.set()
        await asyncio.sleep(60)

    harness = Harness(uploads_then_waits, media=media)
    await media.put_bytes("videos/job-1/older.m4s", b"o", content_type="video/mp4")
    runner = await harness.start("job-1", uploaded)

    await harness.jobs.cancel("job-1")
    await harness.queue.cancel("job-1")

    async def cleaned() -> bool:
        return [key async for key in media.list("videos/")] == ["videos/job-1/older.m4s"]

    await wait_until(cleaned)
    harness.pool.stop()
    await runner


async def _gone(harness: Harness, job_id: str) -> bool:
    return not await harness.queue.contains(job_id)


async def test_shutdown_hands_unfinished_work_back_without_counting_an_attempt() -> None:
    started = asyncio.Event()
    harness = Harness(runs_forever(started), shutdown_timeout=0.2)
    runner = await harness.start("job-1", started)

    harness.pool.stop()
    await asyncio.wait_for(runner, 5)

    await harness.assert_handed_back("job-1")


async def test_stop_now_during_the_drain_hands_work_back_without_waiting() -> None:
    started = asyncio.Event()
    harness = Harness(runs_forever(started, 3600), shutdown_timeout=3600.0)
    runner = await harness.start("job-1", started)

    harness.pool.stop()
    await asyncio.sleep(0)  # the pool is draining: waiting for the attempt
    assert not runner.done()
    harness.pool.stop_now()
    await asyncio.wait_for(runner, 30)

    await harness.assert_handed_back("job-1")


async def test_shutdown_waits_for_attempts_that_finish_in_time() -> None:
    async def quick(job: Job, progress: ProgressReporter) -> Any:
        await asyncio.sleep(0.3)
        return image_artifact()

    harness = Harness(quick, shutdown_timeout=5.0)
    await harness.submit("job-1")
    runner = asyncio.create_task(harness.pool.run())
    await wait_until(lambda: _is(harness, "job-1", JobStatus.PROCESSING))

    harness.pool.stop()
    await asyncio.wait_for(runner, 5)

    assert await harness.statuses("job-1") == [JobStatus.COMPLETED]


async def test_database_outage_hands_tasks_back_uncounted_and_backs_off() -> None:
    """Regression (issue #9, outages): a task whose row could not be marked processing
    was left leased, so an outage stranded the whole backlog for a lease period and cost
    each job an attempt, while the pool kept fetching as fast as it could."""

    async def quick(job: Job, progress: ProgressReporter) -> Any:
        return image_artifact()

    # Leases far longer than the test: a stranded task would not come back in time.
    harness = Harness(quick, lease_seconds=60.0, backoff_on_outage=0.2)
    ids = [f"job-{n}" for n in range(5)]
    for job_id in ids:
        await harness.submit(job_id)
    harness.outage.down = True
    down_at = asyncio.get_running_loop().time()
    runner = asyncio.create_task(harness.pool.run())
    await asyncio.sleep(1.0)
    await wait_until(lambda: _refused_at_least(harness, 5))
    refused_during_outage = harness.outage.refused
    down_for = asyncio.get_running_loop().time() - down_at
    harness.outage.down = False

    async def all_done() -> bool:
        return set(await harness.statuses(*ids)) == {JobStatus.COMPLETED}

    await wait_until(all_done)
    harness.pool.stop()
    await runner
    # Two slots, a 0.2 s pause after each refusal: at most ten tries a second however long
    # the outage lasted on this machine, not a tight loop (and not one try per task before
    # stranding it, either). A slow machine only makes fewer tries.
    assert 5 <= refused_during_outage <= 2 * (down_for / 0.2 + 2), (refused_during_outage, down_for)
    assert [(await harness.jobs.get(job_id)).error for job_id in ids] == [None] * 5


async def _is(harness: Harness, job_id: str, status: JobStatus) -> bool:
    return await harness.statuses(job_id) == [status]


async def _refused_at_least(harness: Harness, count: int) -> bool:
    return harness.outage.refused >= count


async def test_an_attempt_continues_the_trace_its_task_was_submitted_under() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from vylux_adapters.telemetry import Metrics, build_registry
    from vylux_adapters.telemetry.instrumented_handler import InstrumentedHandler

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def handle(job: Job, progress: ProgressReporter) -> Any:
        return image_artifact()

    harness = Harness(
        InstrumentedHandler(
            inner=handle, metrics=Metrics(build_registry()), tracer_provider=provider
        )
    )
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    for job_id, carrier in [
        ("traced", {"traceparent": f"00-{trace_id}-{parent_id}-01"}),
        ("untraced", {}),
    ]:
        created = await harness.jobs.create(
            NewJob(id=job_id, type=JobType.COVER, hash=job_id, source="s.mp4", options={},
                   request_fingerprint=f"fp-{job_id}")
        )  # fmt: skip
        await harness.queue.enqueue(task_for_job(created.job, carrier))
    runner = asyncio.create_task(harness.pool.run())
    await wait_until(lambda: _is(harness, "traced", JobStatus.COMPLETED))
    await wait_until(lambda: _is(harness, "untraced", JobStatus.COMPLETED))
    harness.pool.stop()
    await runner

    spans = {span.attributes["job.id"]: span for span in exporter.get_finished_spans()}
    traced, untraced = spans["traced"], spans["untraced"]
    assert format(traced.context.trace_id, "032x") == trace_id
    assert traced.parent is not None
    assert format(traced.parent.span_id, "016x") == parent_id
    assert untraced.parent is None
    assert format(untraced.context.trace_id, "032x") != trace_id
    provider.shutdown()
