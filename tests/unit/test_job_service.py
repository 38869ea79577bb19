"""JobService end to end on the in-memory adapters: create, idempotency, retry, purge."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.queue import dequeue_one
from tests.support.results import failed_full_result, image_artifact
from vylux_adapters.memory import (
    ManualClock,
    MemoryImageCacheIndex,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectStore,
    MemoryTaskQueue,
    SequentialIdGenerator,
)
from vylux_core.errors import (
    InvalidHash,
    JobNotFound,
    NotRetryable,
    QueueUnavailable,
    SourceMissing,
    SourceNotVideo,
    SourceTooLarge,
    VyluxError,
)
from vylux_core.images.byte_lru import ByteLRU
from vylux_core.images.options import ImageFormat
from vylux_core.jobs.job import Job, JobStatus, JobType
from vylux_core.jobs.limits import JobLimits
from vylux_core.jobs.queue_routing import IMAGE_TIMEOUT_SECONDS, VIDEO_TIMEOUT_SECONDS
from vylux_core.jobs.request import JobRequest, decode_job_request
from vylux_core.jobs.results import FullResult, FullStage, RetryStrategy
from vylux_core.jobs.task import ArchivedTask, CancelOutcome, Lease, QueueStats, Task
from vylux_core.ports.image_cache_index import CacheEntry
from vylux_core.ports.key_store import StoredKey
from vylux_core.ports.object_store import ByteRange, ObjectReader
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.security.key_ring import AadScheme, WrappedKey
from vylux_core.services.image_service import CachedRendition
from vylux_core.services.job_service import JobService

H = "abcdef1234567890"
SOURCE = "uploads/movie.mp4"
ALL_QUEUES = {"critical": 1, "default": 1, "video:large": 1}
STAGE_PLAN = failed_full_result(
    RetryStrategy.RETRY_TASKS,
    JobType.COVER,
    JobType.PREVIEW,
    JobType.TRANSCODE,
    stages=(FullStage.COVER, FullStage.PREVIEW, FullStage.TRANSCODE),
)
FULL_OPTIONS: dict[str, Any] = {
    "cover": {"timestamp_sec": 2},
    "preview": {"format": "gif"},
    "transcode": {"encrypt": True},
}


class EnqueueFailingQueue:
    """A TaskQueue whose backend refuses every enqueue; everything else is delegated."""

    def __init__(self, inner: MemoryTaskQueue) -> None:
        self._inner = inner

    async def enqueue(self, task: Task) -> bool:
        raise QueueUnavailable(f"queue down: cannot enqueue {task.id}")

    async def contains(self, task_id: str) -> bool:
        return await self._inner.contains(task_id)

    async def cancel(self, task_id: str) -> CancelOutcome:
        return await self._inner.cancel(task_id)

    async def stats(self) -> list[QueueStats]:
        return await self._inner.stats()

    async def list_archived(self, queue: str, limit: int) -> list[ArchivedTask]:
        return await self._inner.list_archived(queue, limit)

    async def requeue_archived(self, task_id: str) -> bool:
        return await self._inner.requeue_archived(task_id)


@dataclass
class World:
    service: JobService
    clock: ManualClock
    jobs: MemoryJobStore
    queue: MemoryTaskQueue
    source: MemoryObjectStore
    media: MemoryObjectStore
    cache_index: MemoryImageCacheIndex
    keys: MemoryKeyStore
    renditions: ByteLRU[CachedRendition]

    async def put_source(self, size: int, key: str = SOURCE) -> None:
        await self.source.put_bytes(key, b"v" * size, content_type="video/mp4")

    async def create(self, **fields: Any) -> Job:
        self.clock.advance(1)  # distinct created_at, as in real life
        return (await self.service.create(request(**fields))).job

    async def drain(self) -> list[Task]:
        """Every task the queue would hand out now, in dequeue order."""
        tasks = []
        while (lease := await dequeue_one(self.queue, ALL_QUEUES, "test-worker", 60)) is not None:
            tasks.append(lease.task)
        return tasks


def build(
    *,
    max_file_size: int = 100,
    large_file_threshold: int = 50,
    enqueue_fails: bool = False,
    source: MemoryObjectStore | None = None,
) -> World:
    clock = ManualClock()
    queue = MemoryTaskQueue(clock=clock, rng=random.Random(1))
    world_queue: TaskQueue = EnqueueFailingQueue(queue) if enqueue_fails else queue
    jobs = MemoryJobStore(clock=clock)
    source, media = source or MemoryObjectStore(), MemoryObjectStore()
    cache_index, keys = MemoryImageCacheIndex(), MemoryKeyStore(clock=clock)
    renditions = ByteLRU[CachedRendition](1 << 20)
    service = JobService(
        jobs=jobs,
        queue=world_queue,
        source=source,
        media=media,
        cache_index=cache_index,
        keys=keys,
        renditions=renditions,
        ids=SequentialIdGenerator(),
        limits=JobLimits(max_file_size=max_file_size, large_file_threshold=large_file_threshold),
    )
    return World(service, clock, jobs, queue, source, media, cache_index, keys, renditions)


def request(**fields: Any) -> JobRequest:
    body: dict[str, Any] = {"type": "video:full", "hash": H, "source": SOURCE}
    body.update(fields)
    return decode_job_request(body)


# --- create -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "source_size", "want_queue", "want_max_retry"),
    [
        pytest.param({"type": "image:thumbnail"}, None, "critical", 3, id="thumbnail-critical"),
        pytest.param({"type": "video:cover"}, None, "default", 3, id="cover-default"),
        pytest.param({"type": "video:preview"}, None, "default", 3, id="preview-default"),
        pytest.param({"type": "video:cover"}, 1000, "default", 3, id="cover-no-preflight-big-ok"),
        pytest.param({"type": "video:transcode"}, 49, "default", 3, id="transcode-small"),
        pytest.param(
            {"type": "video:transcode"}, 50, "video:large", 2, id="transcode-at-threshold"
        ),
        pytest.param({}, 10, "default", 3, id="full-small"),
        pytest.param({}, 100, "video:large", 2, id="full-large-at-max-size"),
        pytest.param({"type": "audio:transcode"}, 49, "default", 3, id="audio-small"),
        pytest.param({"type": "audio:transcode"}, 50, "video:large", 2, id="audio-large"),
    ],
)
async def test_create_stores_one_queued_job_and_enqueues_one_task(
    fields: dict[str, Any], source_size: int | None, want_queue: str, want_max_retry: int
) -> None:
    world = build(max_file_size=100, large_file_threshold=50)
    if source_size is not None:
        await world.put_source(source_size)
    req = request(callback_url="https://app.example.com/cb", **fields)
    timeout = IMAGE_TIMEOUT_SECONDS if req.type is JobType.THUMBNAIL else VIDEO_TIMEOUT_SECONDS

    submission = await world.service.create(req)
    job = submission.job

    assert submission.created is True
    assert (job.status, job.type, job.hash, job.source) == (JobStatus.QUEUED, req.type, H, SOURCE)
    assert (job.options, job.request_fingerprint) == (req.canonical_options(), req.fingerprint())
    assert (job.callback_url, job.retry_of_job_id) == ("https://app.example.com/cb", None)
    assert (job.queue, job.max_retry) == (want_queue, want_max_retry)
    assert await world.jobs.list_by_hash(H) == [job]
    assert await world.service.get(job.id) == job
    assert await world.drain() == [
        Task(
            id=job.id,
            type=str(req.type),
            queue=want_queue,
            payload={"job_id": job.id},
            max_retry=want_max_retry,
            timeout_seconds=timeout,
        )
    ]


async def test_trace_context_rides_in_the_payload() -> None:
    world = build()
    carrier = {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "tracestate": "v=1"}

    job = (
        await world.service.create(
            request(type="video:cover"), trace_carrier={**carrier, "baggage": "k=v"}
        )
    ).job

    assert [task.payload for task in await world.drain()] == [{"job_id": job.id, **carrier}]


async def _settle(world: World, job: Job, state: str) -> Job:
    """Move ``job`` to ``state`` the way a worker would."""
    match state:
        case "queued":
            return job
        case "processing":
            return await world.jobs.mark_processing(job.id)
        case "completed":
            await world.jobs.mark_processing(job.id)
            return await world.jobs.complete(job.id, image_artifact("videos/ab/x/cover.jpg"))
        case "failed":
            await world.jobs.mark_processing(job.id)
            return await world.jobs.fail(job.id, "extract cover: boom")
        case _:
            return await world.jobs.cancel(job.id)


@pytest.mark.parametrize(
    ("state", "reused"),
    [
        pytest.param("queued", True, id="queued-duplicate-reuses"),
        pytest.param("processing", True, id="processing-duplicate-reuses"),
        pytest.param("completed", True, id="completed-duplicate-returns-completed-job"),
        pytest.param("failed", False, id="failed-frees-fingerprint"),
        pytest.param("canceled", False, id="canceled-frees-fingerprint"),
    ],
)
async def test_identical_create_is_idempotent_while_a_job_is_active(
    state: str, reused: bool
) -> None:
    world = build()
    first = await world.create(type="video:cover", options={"timestamp_sec": 2})
    settled = await _settle(world, first, state)
    await world.drain()  # the first task is out of the way; only new tasks remain
    world.clock.advance(1)

    # Same work: another callback and another key order do not make it different.
    again = await world.service.create(
        request(type="video:cover", options={"timestamp_sec": 2.0}, callback_url="http://x/cb")
    )

    assert again.created is not reused
    if reused:
        assert again.job == settled
        assert await world.jobs.list_by_hash(H) == [settled]
        assert await world.drain() == []
    else:
        assert again.job.id != first.id
        assert (again.job.status, again.job.callback_url) == (JobStatus.QUEUED, "http://x/cb")
        assert await world.jobs.list_by_hash(H) == [settled, again.job]
        assert [task.id for task in await world.drain()] == [again.job.id]


@pytest.mark.parametrize(
    ("job_type", "source_size", "error", "message"),
    [
        pytest.param(
            "video:full",
            10,
            SourceTooLarge,
            "source file exceeds MAX_FILE_SIZE (4 bytes)",
            id="u16-full-oversized",
        ),
        pytest.param(
            "video:transcode",
            5,
            SourceTooLarge,
            "source file exceeds MAX_FILE_SIZE (4 bytes)",
            id="transcode-one-byte-over",
        ),
        pytest.param(
            "video:full", None, SourceMissing, "source object not found", id="u17-full-missing"
        ),
        pytest.param(
            "video:transcode",
            None,
            SourceMissing,
            "source object not found",
            id="transcode-missing",
        ),
    ],
)
async def test_preflight_rejects_without_creating_anything(
    job_type: str, source_size: int | None, error: type[VyluxError], message: str
) -> None:
    world = build(max_file_size=4, large_file_threshold=2)
    if source_size is not None:
        await world.put_source(source_size)

    with pytest.raises(error) as caught:
        await world.service.create(request(type=job_type))

    assert caught.value.message == message
    assert await world.jobs.list_by_hash(H) == []
    assert await world.drain() == []


@pytest.mark.parametrize(
    "job_type",
    [
        pytest.param("image:thumbnail", id="thumbnail"),
        pytest.param("video:cover", id="cover"),
        pytest.param("video:preview", id="preview"),
    ],
)
async def test_types_without_preflight_accept_a_missing_source(job_type: str) -> None:
    world = build()

    submission = await world.service.create(request(type=job_type))

    assert (submission.created, submission.job.status) == (True, JobStatus.QUEUED)
    assert [task.id for task in await world.drain()] == [submission.job.id]


IMAGE_HEADS = [
    pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", id="jpeg"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", id="png"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", "image/gif", id="gif89a"),
    pytest.param(b"GIF87a\x01\x00\x01\x00", "image/gif", id="gif87a"),
    pytest.param(b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp", id="webp"),
    pytest.param(b"II*\x00\x08\x00\x00\x00", "image/tiff", id="tiff-le"),
    pytest.param(b"\x00\x00\x00\x1cftypavif\x00\x00", "image/avif", id="avif"),
    pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic", id="heic"),
]


class RangeRecordingStore(MemoryObjectStore):
    """Records the byte range of every open, so a test can see what was read."""

    def __init__(self) -> None:
        super().__init__()
        self.ranges: list[ByteRange | None] = []

    async def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        self.ranges.append(byte_range)
        return await super().open(key, byte_range)


@pytest.mark.parametrize("job_type", ["video:transcode", "video:full"])
@pytest.mark.parametrize(("head", "image_type"), IMAGE_HEADS)
async def test_preflight_refuses_an_image_as_a_video_source(
    job_type: str, head: bytes, image_type: str
) -> None:
    world = build(max_file_size=1 << 20)
    await world.source.put_bytes(SOURCE, head + b"\x00" * 4000, content_type="video/mp4")

    with pytest.raises(SourceNotVideo) as caught:
        await world.service.create(request(type=job_type))

    assert caught.value.message == f"source is not a video ({image_type})"
    assert await world.jobs.list_by_hash(H) == []
    assert await world.drain() == []


async def test_preflight_refuses_an_image_as_an_audio_source() -> None:
    world = build(max_file_size=1 << 20)
    await world.source.put_bytes(SOURCE, b"\xff\xd8\xff" + b"\x00" * 100, content_type="a/b")

    with pytest.raises(SourceNotVideo) as caught:
        await world.service.create(request(type="audio:transcode"))

    assert caught.value.message == "source is not audio (image/jpeg)"


async def test_preflight_reads_only_the_first_bytes_of_the_source() -> None:
    recording = RangeRecordingStore()
    world = build(max_file_size=1 << 20, source=recording)
    await recording.put_bytes(SOURCE, b"\xff\xd8\xff" + b"\x00" * 100_000, content_type="a/b")

    with pytest.raises(SourceNotVideo):
        await world.service.create(request(type="video:transcode"))

    assert recording.ranges == [ByteRange(0, 15)]


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", id="mp4"),
        pytest.param(b"\x00\x00\x00\x1cftypavis\x00\x00", id="avif-image-sequence"),
        pytest.param(b"\x1aE\xdf\xa3\x9fB\x86\x81\x01", id="matroska"),
        pytest.param(b"RIFF\x24\x00\x00\x00AVI LIST", id="avi"),
        pytest.param(b"\xff", id="shorter-than-any-signature"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_preflight_lets_anything_else_through_to_the_worker(head: bytes) -> None:
    world = build(max_file_size=1 << 20)
    await world.source.put_bytes(SOURCE, head, content_type="video/mp4")

    submission = await world.service.create(request(type="video:transcode"))

    assert submission.created


@pytest.mark.parametrize("job_type", ["video:cover", "video:preview", "image:thumbnail"])
async def test_types_without_preflight_do_not_sniff_the_source(job_type: str) -> None:
    world = build()
    await world.source.put_bytes(SOURCE, b"\xff\xd8\xff\xe0", content_type="image/jpeg")

    submission = await world.service.create(request(type=job_type))

    assert submission.created


async def test_enqueue_failure_still_accepts_the_job() -> None:
    world = build(enqueue_fails=True)

    submission = await world.service.create(request(type="image:thumbnail"))

    assert (submission.created, submission.job.status) == (True, JobStatus.QUEUED)
    assert await world.jobs.list_by_hash(H) == [submission.job]  # the reconciler enqueues it
    assert await world.drain() == []


async def test_get_unknown_job() -> None:
    with pytest.raises(JobNotFound):
        await build().service.get("job-999999")


# --- retry ------------------------------------------------------------------------------


async def _failed_full_job(world: World, results: FullResult = STAGE_PLAN) -> Job:
    job = await world.create(options=FULL_OPTIONS, callback_url="https://app.example.com/cb")
    await world.drain()
    await world.jobs.mark_processing(job.id)
    return await world.jobs.fail(job.id, "video:full failed: [cover preview]", results)


@pytest.mark.parametrize(
    ("source_size", "want_queues"),
    [
        pytest.param(10, ["default", "default", "default"], id="small-source"),
        pytest.param(60, ["default", "default", "video:large"], id="large-source-routes-transcode"),
    ],
)
async def test_i23_retry_of_full_job_creates_stage_jobs(
    source_size: int, want_queues: list[str]
) -> None:
    world = build(max_file_size=100, large_file_threshold=50)
    await world.put_source(source_size)
    failed = await _failed_full_job(world)

    retry = await world.service.retry(failed.id)

    assert (retry.source_job_id, retry.strategy) == (failed.id, "retry_tasks")
    assert [job.type for job in retry.jobs] == [JobType.COVER, JobType.PREVIEW, JobType.TRANSCODE]
    assert [job.options for job in retry.jobs] == [
        {"timestamp_sec": 2},
        {"format": "gif"},
        {"encrypt": True},
    ]
    assert [job.queue for job in retry.jobs] == want_queues
    assert {
        (j.status, j.retry_of_job_id, j.hash, j.source, j.callback_url) for j in retry.jobs
    } == {(JobStatus.QUEUED, failed.id, H, SOURCE, "https://app.example.com/cb")}
    retries = [job for job in await world.jobs.list_by_hash(H) if job.retry_of_job_id == failed.id]
    assert retries == list(retry.jobs)
    assert sorted(task.id for task in await world.drain()) == sorted(j.id for j in retry.jobs)
    assert await world.service.get(failed.id) == failed  # the failed job is left as it was


async def test_retry_job_strategy_resubmits_the_whole_job() -> None:
    world = build()
    await world.put_source(10)
    results = failed_full_result(RetryStrategy.RETRY_JOB, JobType.FULL)
    failed = await _failed_full_job(world, results)

    retry = await world.service.retry(failed.id)

    assert retry.strategy == "retry_job"
    assert [(j.type, j.options, j.retry_of_job_id) for j in retry.jobs] == [
        (JobType.FULL, FULL_OPTIONS, failed.id)
    ]
    assert retry.jobs[0].request_fingerprint == failed.request_fingerprint


async def test_retry_twice_returns_the_same_active_jobs() -> None:
    world = build()
    await world.put_source(10)
    failed = await _failed_full_job(world)
    first = await world.service.retry(failed.id)
    world.clock.advance(1)

    second = await world.service.retry(failed.id)

    assert second == first
    assert len(await world.jobs.list_by_hash(H)) == 4
    assert len(await world.drain()) == 3


@pytest.mark.parametrize(
    "state",
    [
        pytest.param("queued", id="queued"),
        pytest.param("processing", id="processing"),
        pytest.param("completed", id="completed"),
        pytest.param("canceled", id="canceled"),
    ],
)
async def test_retry_of_a_job_that_did_not_fail(state: str) -> None:
    world = build()
    job = await _settle(world, await world.create(type="video:cover"), state)

    with pytest.raises(NotRetryable, match=r"^only failed jobs can be retried$"):
        await world.service.retry(job.id)

    assert await world.jobs.list_by_hash(H) == [job]


async def test_retry_of_an_unknown_job() -> None:
    with pytest.raises(JobNotFound):
        await build().service.retry("job-999999")


@pytest.mark.parametrize(
    ("new_source_size", "error"),
    [
        pytest.param(None, SourceMissing, id="source-deleted"),
        pytest.param(101, SourceTooLarge, id="source-grew-too-large"),
    ],
)
async def test_retry_validates_every_stage_before_creating_any(
    new_source_size: int | None, error: type[VyluxError]
) -> None:
    world = build(max_file_size=100)
    await world.put_source(10)
    failed = await _failed_full_job(world)
    await world.source.delete_many([SOURCE])
    if new_source_size is not None:
        await world.put_source(new_source_size)

    # Cover and preview come first in the plan and need no preflight; the transcode
    # stage's preflight fails, and nothing at all is created.
    with pytest.raises(error):
        await world.service.retry(failed.id)

    assert await world.jobs.list_by_hash(H) == [failed]
    assert await world.drain() == []


# --- purge ------------------------------------------------------------------------------

OTHER = "abzzzz"  # same two-character prefix as H
LONGER = H + "x"  # H is a prefix of this hash's directory name
DIGEST_H = "1" * 64
DIGEST_OTHER = "2" * 64


def _stored_key(media_hash: str) -> StoredKey:
    wrapped = WrappedKey(
        media_hash=media_hash,
        wrapped_key=b"k" * 32,
        nonce=b"n" * 12,
        kek_version="v2",
        aad_scheme=AadScheme.VERSION_AND_HASH,
    )
    return StoredKey(
        media_hash=media_hash, wrapped=wrapped, kid="0" * 32, scheme="cbcs", key_uri=""
    )


@dataclass
class Seeded:
    queued: Job
    running: Lease
    unrelated: Job


async def _seed(world: World) -> Seeded:
    media_keys = [
        f"images/ab/{H}/thumb.webp",
        f"videos/ab/{H}/cover.jpg",
        f"videos/ab/{H}/master.m3u8",
        f"videos/ab/{H}/video/r720_h264/seg_1.m4s",
        f"images/ab/{LONGER}/thumb.webp",
        f"videos/ab/{OTHER}/cover.jpg",
    ]
    for key in media_keys:
        await world.media.put_bytes(key, b"x", content_type="application/octet-stream")
    for media_hash, digest in ((H, DIGEST_H), (OTHER, DIGEST_OTHER)):
        entry = CacheEntry(media_hash, f"uploads/{media_hash}/w64.webp", f"cache/{digest}.webp")
        await world.media.put_bytes(entry.storage_key, b"img", content_type="image/webp")
        world.renditions.put(entry.cache_key, CachedRendition.of(b"img", ImageFormat.WEBP))
        await world.cache_index.record(entry)
        await world.keys.put_if_absent(_stored_key(media_hash))

    running = await world.create(type="video:cover")
    lease = await dequeue_one(world.queue, {"default": 1}, "worker-1", 60)
    assert lease is not None
    assert lease.task.id == running.id
    await world.jobs.mark_processing(running.id)
    done = await world.create(type="video:preview")
    done_lease = await dequeue_one(world.queue, {"default": 1}, "worker-1", 60)
    assert done_lease is not None
    await _settle(world, done, "completed")
    await world.queue.ack(done_lease)
    queued = await world.create(type="image:thumbnail")
    unrelated = await world.create(type="image:thumbnail", hash=OTHER)
    return Seeded(queued=queued, running=lease, unrelated=unrelated)


@pytest.mark.parametrize("times", [pytest.param(1, id="once"), pytest.param(2, id="twice")])
async def test_purge_removes_everything_of_the_hash_and_nothing_else(times: int) -> None:
    world = build()
    seeded = await _seed(world)

    for _ in range(times):
        await world.service.purge(H)

    assert [key async for key in world.media.list("")] == [
        f"cache/{DIGEST_OTHER}.webp",
        f"images/ab/{LONGER}/thumb.webp",
        f"videos/ab/{OTHER}/cover.jpg",
    ]
    assert world.renditions.get(f"uploads/{H}/w64.webp") is None
    assert world.renditions.get(f"uploads/{OTHER}/w64.webp") == CachedRendition.of(
        b"img", ImageFormat.WEBP
    )
    assert await world.cache_index.list_by_hash(H) == []
    assert len(await world.cache_index.list_by_hash(OTHER)) == 1
    assert (await world.keys.get(H), (await world.keys.get(OTHER)) is not None) == (None, True)
    assert await world.jobs.list_by_hash(H) == []
    assert await world.jobs.list_by_hash(OTHER) == [seeded.unrelated]
    assert await world.queue.contains(seeded.queued.id) is False  # waiting task deleted
    assert await world.queue.heartbeat(seeded.running, 60) is None  # running task told to stop
    assert [task.id for task in await world.drain()] == [seeded.unrelated.id]


@pytest.mark.parametrize(
    "media_hash",
    [
        pytest.param("", id="empty"),
        pytest.param("..", id="dotdot"),
        pytest.param("ab/../cd", id="traversal"),
        pytest.param("a" * 129, id="too-long"),
    ],
)
async def test_purge_rejects_an_invalid_hash(media_hash: str) -> None:
    world = build()
    seeded = await _seed(world)

    with pytest.raises(InvalidHash):
        await world.service.purge(media_hash)

    assert await world.jobs.list_by_hash(OTHER) == [seeded.unrelated]


async def test_purge_also_removes_the_archived_task_of_a_failed_job() -> None:
    world = build()
    failed = await world.create(type="video:cover")
    lease = await dequeue_one(world.queue, {"default": 1}, "worker-1", 60)
    assert lease is not None
    await world.jobs.mark_processing(failed.id)
    await world.queue.fail(lease, "bad source", permanent=True)
    await world.jobs.fail(failed.id, "bad source")

    await world.service.purge(H)

    assert not await world.queue.contains(failed.id)
    assert not await world.queue.requeue_archived(failed.id)
