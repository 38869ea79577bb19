"""JobService.cancel and list_jobs, the listing cursor, and the runner's side of a cancel,
on the memory adapters."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.queue import dequeue_one
from tests.support.results import image_artifact
from vylux_adapters.memory import (
    ManualClock,
    MemoryImageCacheIndex,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectStore,
    MemoryTaskQueue,
    MemoryWebhookOutbox,
    SequentialIdGenerator,
)
from vylux_core.errors import InvalidJobQuery, JobAlreadyFinished, QueueUnavailable
from vylux_core.images.byte_lru import ByteLRU
from vylux_core.jobs.job import Job, JobStatus, JobType, NewJob
from vylux_core.jobs.listing import JobCursor, JobQuery, decode_cursor, encode_cursor
from vylux_core.jobs.listing import JobFilter as Filter
from vylux_core.jobs.task import CancelOutcome
from vylux_core.services import CachedRendition, JobLimits, JobService, task_for_job
from vylux_core.worker import AttemptOutcome, JobRunner, ProgressReporter
from vylux_core.worker.attempt_outputs import RecordingObjectStore

WEIGHTS = {"critical": 1, "default": 1}


class QueueDownOnCancel(MemoryTaskQueue):
    async def cancel(self, task_id: str) -> CancelOutcome:
        raise QueueUnavailable("queue unavailable: connection refused")


class World:
    def __init__(self, *, queue_down: bool = False) -> None:
        self.clock = ManualClock()
        self.outbox = MemoryWebhookOutbox()
        self.jobs = MemoryJobStore(clock=self.clock, outbox=self.outbox)
        queue_type = QueueDownOnCancel if queue_down else MemoryTaskQueue
        self.queue = queue_type(clock=self.clock, rng=random.Random(2))
        self.media = MemoryObjectStore()
        self.service = JobService(
            jobs=self.jobs, queue=self.queue, source=MemoryObjectStore(), media=self.media,
            cache_index=MemoryImageCacheIndex(), keys=MemoryKeyStore(clock=self.clock),
            renditions=ByteLRU[CachedRendition](1 << 20), ids=SequentialIdGenerator(),
            limits=JobLimits(),
        )  # fmt: skip

    async def add(self, job_id: str, *, callback: str = "https://hooks.example/v") -> Job:
        outcome = await self.jobs.create(
            NewJob(
                id=job_id, type=JobType.COVER, hash="h1", source="a.mp4", options={},
                request_fingerprint=f"fp-{job_id}", callback_url=callback,
            )
        )  # fmt: skip
        await self.queue.enqueue(task_for_job(outcome.job))
        return outcome.job

    async def webhooks(self) -> list[dict[str, Any]]:
        due = await self.outbox.due(self.clock.now(), 100)
        return [json.loads(entry.message.payload) for entry in due]


async def test_cancel_writes_the_row_with_one_webhook_and_removes_the_task() -> None:
    world = World()
    await world.add("job-1")

    cancelled = await world.service.cancel("job-1")
    again = await world.service.cancel("job-1")

    assert cancelled.status is JobStatus.CANCELED
    assert again == cancelled
    assert not await world.queue.contains("job-1")
    assert await world.webhooks() == [
        {"job_id": "job-1", "type": "video:cover", "hash": "h1", "status": "canceled"}
    ]


async def test_cancel_without_a_callback_queues_no_webhook() -> None:
    world = World()
    await world.add("job-1", callback="")
    await world.service.cancel("job-1")
    assert await world.webhooks() == []


async def test_cancel_succeeds_by_the_row_when_the_queue_is_down() -> None:
    world = World(queue_down=True)
    await world.add("job-1")

    cancelled = await world.service.cancel("job-1")

    assert cancelled.status is JobStatus.CANCELED
    assert (await world.jobs.get("job-1")).status is JobStatus.CANCELED


@pytest.mark.parametrize("final", [JobStatus.COMPLETED, JobStatus.FAILED])
async def test_cancel_of_a_finished_job_raises_and_sends_nothing(final: JobStatus) -> None:
    world = World()
    await world.add("job-1", callback="")
    await world.jobs.mark_processing("job-1")
    if final is JobStatus.COMPLETED:
        await world.jobs.complete("job-1", image_artifact())
    else:
        await world.jobs.fail("job-1", "no")

    with pytest.raises(JobAlreadyFinished, match=r"^job already finished$"):
        await world.service.cancel("job-1")


async def test_list_jobs_hands_out_a_cursor_only_when_more_jobs_follow() -> None:
    world = World()
    for number in range(4):
        await world.add(f"job-{number}")
        world.clock.advance(1)

    first = await world.service.list_jobs(JobQuery(filter=Filter(), limit=2))
    second = await world.service.list_jobs(
        JobQuery(filter=Filter(), limit=2, cursor=first.next_cursor)
    )

    assert [job.id for job in first.jobs] == ["job-3", "job-2"]
    assert first.next_cursor == JobCursor.after(first.jobs[-1])
    assert ([job.id for job in second.jobs], second.next_cursor) == (["job-1", "job-0"], None)


def test_cursor_round_trips_and_refuses_what_it_did_not_make() -> None:
    cursor = JobCursor(datetime(2026, 11, 24, 15, 29, 40, 123456, tzinfo=UTC), "job/ü")
    assert decode_cursor(encode_cursor(cursor)) == cursor
    for junk in ("", "%%%", "bnVsbA", "W10", "eyJ0IjoxLCJpZCI6MX0"):
        with pytest.raises(InvalidJobQuery, match=r"^invalid cursor"):
            decode_cursor(junk)


async def test_a_cancel_during_the_last_step_wins_and_takes_back_the_uploads() -> None:
    """The handler finishes after the row was cancelled: the complete is refused, the
    task is dropped (not retried) and what the attempt uploaded is deleted."""
    world = World()
    await world.add("job-1", callback="")
    recorded = RecordingObjectStore(world.media)

    async def uploads_then_is_cancelled(job: Job, progress: ProgressReporter) -> Any:
        await recorded.put_bytes("videos/h1/master.m3u8", b"#EXTM3U", content_type="x")
        await world.service.cancel(job.id)
        return image_artifact()

    runner = JobRunner(
        jobs=world.jobs, consumer=world.queue, clock=world.clock, outputs=world.media,
        handlers={JobType.COVER: uploads_then_is_cancelled},
    )  # fmt: skip
    lease = await dequeue_one(world.queue, WEIGHTS, "w1", 30)
    assert lease is not None

    outcome = await runner.run(lease)

    assert outcome is AttemptOutcome.CANCELLED
    assert (await world.jobs.get("job-1")).status is JobStatus.CANCELED
    assert not await world.queue.contains("job-1")
    assert [key async for key in world.media.list("videos/")] == []
