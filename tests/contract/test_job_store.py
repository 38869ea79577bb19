"""JobStore contract: every adapter behaves like the port's docstrings say."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.support.databases import StoreFactory, database_url_for, emptied_engine, store_factories
from tests.support.results import failed_full_result, image_artifact, thumbnails
from vylux_adapters.memory import ManualClock, MemoryJobStore
from vylux_adapters.sql import SqlJobStore
from vylux_adapters.sql.schema import jobs
from vylux_core.errors import IllegalTransition, JobNotFound
from vylux_core.jobs.job import CallbackStatus, Job, JobStatus, JobType, NewJob
from vylux_core.jobs.listing import JobCursor, JobFilter
from vylux_core.jobs.results import (
    AudioTranscodeResult,
    FullStage,
    Results,
    RetryStrategy,
    StoryboardArtifact,
    StreamingInfo,
    UnreadableResults,
    WaveformArtifact,
    results_json,
)
from vylux_core.ports.job_store import JobStore

JOB_STORE_FACTORIES = store_factories(
    lambda clock: MemoryJobStore(clock=clock),
    lambda engine, clock: SqlJobStore(engine=engine, clock=clock),
)


@pytest.fixture(params=JOB_STORE_FACTORIES)
async def store(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[JobStore]:
    factory: StoreFactory[JobStore] = request.param
    async with factory(clock, request) as adapter:
        yield adapter


def new_job(
    job_id: str,
    *,
    fingerprint: str | None = None,
    media_hash: str = "hash-a",
    **changes: Any,
) -> NewJob:
    fields: dict[str, Any] = {
        "id": job_id,
        "type": JobType.THUMBNAIL,
        "hash": media_hash,
        "source": f"uploads/{job_id}.jpg",
        "options": {"width": 320},
        "request_fingerprint": fingerprint or f"fp-{job_id}",
    }
    fields.update(changes)
    return NewJob(**fields)


async def created(store: JobStore, job: NewJob) -> Job:
    outcome = await store.create(job)
    assert outcome.created
    return outcome.job


# --- create and read back -------------------------------------------------------------

NESTED_OPTIONS: dict[str, Any] = {
    "width": 1280,
    "ratio": 0.5,
    "enabled": True,
    "nothing": None,
    "title": "Ünïcødé — 日本語 🎬",
    "ladder": [{"height": 720, "codecs": ["h264", "av1"]}, {"height": 1080, "codecs": []}],
    "deep": {"a": {"b": {"c": [1, 2, {"d": "e"}]}}},
}
# One result per job type, with unicode, optional fields, floats and nesting: a store
# writes it as JSON and reads it back as the same value.
ROUND_TRIP_RESULTS: dict[JobType, Results] = {
    JobType.THUMBNAIL: thumbnails("images/ab/hash-a/small — ✓.webp", "images/ab/hash-a/big.png"),
    JobType.COVER: image_artifact("videos/ab/hash-a/café.jpg", size=123_456),
    JobType.FULL: failed_full_result(
        RetryStrategy.RETRY_TASKS, JobType.COVER, JobType.PREVIEW, stages=(FullStage.COVER,)
    ),
    JobType.STORYBOARD: StoryboardArtifact(
        sprite="s.jpg", vtt="s.vtt", json="s.json", tiles=30, interval_ms=1500,
        tile_width=160, tile_height=90,
    ),
    JobType.AUDIO_TRANSCODE: AudioTranscodeResult(
        streaming=StreamingInfo(encrypted=False, master_playlist="a/master.m3u8"),
        audio_tracks=(),
        waveform=WaveformArtifact(key="a/waveform.json", bins=20, sample_rate=8000, duration=8.5),
    ),
}  # fmt: skip


async def test_create_stores_a_queued_job_that_round_trips(
    store: JobStore, clock: ManualClock
) -> None:
    request = new_job(
        "job-1",
        fingerprint="fp-round-trip",
        type=JobType.TRANSCODE,
        source="uploads/film — ünïcødé.mov",
        options=NESTED_OPTIONS,
        callback_url="https://example.com/hook?x=1",
        queue="video:large",
        max_retry=5,
    )

    outcome = await store.create(request)

    assert outcome.created
    job = outcome.job
    assert job == await store.get("job-1")
    assert (job.id, job.type, job.hash, job.source) == (
        "job-1",
        JobType.TRANSCODE,
        "hash-a",
        "uploads/film — ünïcødé.mov",
    )
    assert job.options == NESTED_OPTIONS
    assert job.request_fingerprint == "fp-round-trip"
    assert job.status is JobStatus.QUEUED
    assert job.progress == 0
    assert job.callback_url == "https://example.com/hook?x=1"
    assert job.callback_status is CallbackStatus.PENDING
    assert job.retry_of_job_id is None
    assert job.error is None
    assert job.results is None
    assert (job.queue, job.max_retry) == ("video:large", 5)
    assert job.created_at == job.updated_at == clock.now()


@pytest.mark.parametrize("job_type", list(ROUND_TRIP_RESULTS))
async def test_results_round_trip_through_json(store: JobStore, job_type: JobType) -> None:
    results = ROUND_TRIP_RESULTS[job_type]
    await created(store, new_job("job-1", type=job_type))
    await store.mark_processing("job-1")

    returned = await store.complete("job-1", results)

    assert returned.results == results
    assert (await store.get("job-1")).results == results


async def test_empty_results_round_trip(store: JobStore) -> None:
    await created(store, new_job("job-1"))
    await store.mark_processing("job-1")

    await store.complete("job-1", ())

    assert (await store.get("job-1")).results == ()


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_a_row_whose_results_do_not_decode_is_read_as_unreadable(
    dialect: str, clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    # Written by hand or by a version with another shape: the row is still read (a view
    # shows the JSON as stored, a listing is not broken), the results typed as such.
    stored = {"stages": "garbage", "note": "ünïcødé"}
    async with emptied_engine(database_url_for(request, dialect)) as engine:
        store = SqlJobStore(engine=engine, clock=clock)
        await created(store, new_job("job-1", type=JobType.FULL))
        async with engine.begin() as conn:
            await conn.execute(
                update(jobs).where(jobs.c.id == "job-1").values(status="failed", results=stored)
            )

        job = await store.get("job-1")
        listed = await store.list_by_hash("hash-a")

    assert isinstance(job.results, UnreadableResults)
    assert (job.status, job.results.stored, results_json(job.results)) == (
        JobStatus.FAILED, stored, stored,
    )  # fmt: skip
    assert listed == [job]


async def test_get_unknown_id_raises_job_not_found(store: JobStore) -> None:
    with pytest.raises(JobNotFound):
        await store.get("no-such-job")


# --- fingerprints --------------------------------------------------------------------------


async def test_second_create_with_one_fingerprint_returns_the_first(store: JobStore) -> None:
    first = await created(store, new_job("job-1", fingerprint="fp"))

    outcome = await store.create(new_job("job-2", fingerprint="fp"))

    assert not outcome.created
    assert outcome.job == first
    assert [job.id for job in await store.list_by_hash("hash-a")] == ["job-1"]
    with pytest.raises(JobNotFound):
        await store.get("job-2")


async def settle(store: JobStore, job_id: str, status: JobStatus) -> None:
    """Bring a fresh ``queued`` job to ``status`` through legal transitions."""
    if status is JobStatus.QUEUED:
        return
    if status is JobStatus.CANCELED:
        await store.cancel(job_id)
        return
    await store.mark_processing(job_id)
    if status is JobStatus.COMPLETED:
        await store.complete(job_id, thumbnails())
    elif status is JobStatus.FAILED:
        await store.fail(job_id, "gave up")


@pytest.mark.parametrize(
    ("status", "frees_fingerprint"),
    [
        pytest.param(JobStatus.QUEUED, False, id="queued-holds"),
        pytest.param(JobStatus.PROCESSING, False, id="processing-holds"),
        pytest.param(JobStatus.COMPLETED, False, id="completed-holds"),
        pytest.param(JobStatus.FAILED, True, id="failed-frees"),
        pytest.param(JobStatus.CANCELED, True, id="canceled-frees"),
    ],
)
async def test_only_failed_and_canceled_jobs_free_their_fingerprint(
    store: JobStore, clock: ManualClock, status: JobStatus, frees_fingerprint: bool
) -> None:
    await created(store, new_job("job-1", fingerprint="fp"))
    await settle(store, "job-1", status)
    clock.advance(1)

    outcome = await store.create(new_job("job-2", fingerprint="fp"))

    assert outcome.created is frees_fingerprint
    want_id = "job-2" if frees_fingerprint else "job-1"
    assert outcome.job.id == want_id
    assert [job.id for job in await store.list_by_hash("hash-a")] == (
        ["job-1", "job-2"] if frees_fingerprint else ["job-1"]
    )
    active = await store.find_active("fp")
    assert active is not None
    assert active.id == want_id


async def test_find_active_returns_the_newest_active_job(
    store: JobStore, clock: ManualClock
) -> None:
    assert await store.find_active("fp") is None
    await created(store, new_job("job-1", fingerprint="fp"))
    await store.cancel("job-1")
    clock.advance(1)
    await created(store, new_job("job-2", fingerprint="fp"))
    await store.fail("job-2", "broken")
    clock.advance(1)
    await created(store, new_job("job-3", fingerprint="fp"))
    await created(store, new_job("job-4", fingerprint="other"))

    active = await store.find_active("fp")

    assert active is not None
    assert active.id == "job-3"
    await store.cancel("job-3")
    assert await store.find_active("fp") is None


async def test_concurrent_creates_with_one_fingerprint_insert_exactly_one_row(
    store: JobStore,
) -> None:
    requests = [new_job(f"job-{n:02d}", fingerprint="fp-race") for n in range(25)]

    outcomes = await asyncio.gather(*(store.create(request) for request in requests))

    assert sum(outcome.created for outcome in outcomes) == 1
    winner = next(outcome.job for outcome in outcomes if outcome.created)
    assert {outcome.job.id for outcome in outcomes} == {winner.id}
    assert [job.id for job in await store.list_by_hash("hash-a")] == [winner.id]


# --- status transitions ----------------------------------------------------------------------

Transition = Callable[[JobStore, str], Awaitable[Job]]

TRANSITIONS: dict[JobStatus, Transition] = {
    JobStatus.QUEUED: lambda store, job_id: store.requeue(job_id),
    JobStatus.PROCESSING: lambda store, job_id: store.mark_processing(job_id),
    JobStatus.COMPLETED: lambda store, job_id: store.complete(job_id, thumbnails()),
    JobStatus.FAILED: lambda store, job_id: store.fail(job_id, "failed for good"),
    JobStatus.CANCELED: lambda store, job_id: store.cancel(job_id),
}

LEGAL = {
    (JobStatus.QUEUED, JobStatus.PROCESSING),
    (JobStatus.QUEUED, JobStatus.FAILED),
    (JobStatus.QUEUED, JobStatus.CANCELED),
    (JobStatus.PROCESSING, JobStatus.QUEUED),
    (JobStatus.PROCESSING, JobStatus.PROCESSING),
    (JobStatus.PROCESSING, JobStatus.COMPLETED),
    (JobStatus.PROCESSING, JobStatus.FAILED),
    (JobStatus.PROCESSING, JobStatus.CANCELED),
    (JobStatus.CANCELED, JobStatus.CANCELED),  # cancel is idempotent
}


@pytest.mark.parametrize(
    ("current", "target", "legal"),
    [
        pytest.param(current, target, (current, target) in LEGAL, id=f"{current}->{target}")
        for current in JobStatus
        for target in JobStatus
    ],
)
async def test_status_transitions(
    store: JobStore, clock: ManualClock, current: JobStatus, target: JobStatus, legal: bool
) -> None:
    await created(store, new_job("job-1"))
    await settle(store, "job-1", current)
    before = await store.get("job-1")
    clock.advance(5)

    if legal:
        returned = await TRANSITIONS[target](store, "job-1")
        assert returned.status is target
        assert await store.get("job-1") == returned
    else:
        with pytest.raises(IllegalTransition):
            await TRANSITIONS[target](store, "job-1")
        assert await store.get("job-1") == before


@pytest.mark.parametrize("target", [pytest.param(status, id=status) for status in JobStatus])
async def test_transition_of_unknown_id_raises_job_not_found(
    store: JobStore, target: JobStatus
) -> None:
    with pytest.raises(JobNotFound):
        await TRANSITIONS[target](store, "no-such-job")


async def test_fail_stores_error_and_results(store: JobStore) -> None:
    await created(store, new_job("job-2", type=JobType.FULL))
    await store.mark_processing("job-2")
    kept = failed_full_result(RetryStrategy.RETRY_TASKS, JobType.COVER)

    failed = await store.fail("job-2", "video:full failed: [cover]", kept)

    assert (failed.status, failed.error, failed.results) == (
        JobStatus.FAILED,
        "video:full failed: [cover]",
        kept,
    )
    assert await store.get("job-2") == failed


async def test_updated_at_moves_forward_on_every_update(
    store: JobStore, clock: ManualClock
) -> None:
    job = await created(store, new_job("job-1"))
    created_at = job.created_at

    clock.advance(10)
    processing = await store.mark_processing("job-1")
    clock.advance(10)
    done = await store.complete("job-1", thumbnails())

    assert processing.updated_at == created_at + timedelta(seconds=10)
    assert done.updated_at == created_at + timedelta(seconds=20)
    assert done.created_at == processing.created_at == created_at
    stored = await store.get("job-1")
    assert (stored.created_at, stored.updated_at) == (created_at, done.updated_at)


# --- progress, errors, callbacks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("updates", "want"),
    [
        pytest.param([40], 40, id="raises"),
        pytest.param([40, 70], 70, id="raises-twice"),
        pytest.param([60, 30], 60, id="never-lowers"),
        pytest.param([60, 60], 60, id="same-value"),
        pytest.param([100], 100, id="reaches-100"),
        pytest.param([50, 150], 100, id="caps-at-100"),
    ],
)
async def test_progress_only_rises_and_caps_at_100(
    store: JobStore, updates: list[int], want: int
) -> None:
    await created(store, new_job("job-1"))
    await store.mark_processing("job-1")

    for progress in updates:
        await store.set_progress("job-1", progress)

    assert (await store.get("job-1")).progress == want


async def test_set_progress_of_unknown_id_is_a_no_op(store: JobStore) -> None:
    await store.set_progress("no-such-job", 50)


async def test_record_attempt_error_keeps_status_until_complete_clears_it(
    store: JobStore,
) -> None:
    await created(store, new_job("job-1"))
    await store.mark_processing("job-1")
    await store.set_progress("job-1", 30)

    await store.record_attempt_error("job-1", "attempt 1: timeout")

    job = await store.get("job-1")
    assert (job.status, job.error, job.progress) == (JobStatus.PROCESSING, "attempt 1: timeout", 30)
    again = await store.mark_processing("job-1")  # the next attempt keeps the last error
    assert (again.status, again.error) == (JobStatus.PROCESSING, "attempt 1: timeout")

    done = await store.complete("job-1", thumbnails())

    assert (done.status, done.progress, done.error) == (JobStatus.COMPLETED, 100, None)
    assert await store.get("job-1") == done


@pytest.mark.parametrize("final", ["complete", "fail", "cancel"])
async def test_record_attempt_error_leaves_a_finished_job_alone(
    store: JobStore, final: str
) -> None:
    # The lease recoverer found a killed worker's attempt after the retry had finished.
    await created(store, new_job("job-1"))
    await store.mark_processing("job-1")
    match final:
        case "complete":
            await store.complete("job-1", thumbnails())
        case "fail":
            await store.fail("job-1", "bad source")
        case _:
            await store.cancel("job-1")
    before = await store.get("job-1")

    await store.record_attempt_error("job-1", "lease expired")

    assert await store.get("job-1") == before


async def test_record_attempt_error_of_unknown_id_is_a_no_op(store: JobStore) -> None:
    await store.record_attempt_error("no-such-job", "lease expired")


async def test_record_attempt_error_on_a_queued_job_keeps_it_queued(store: JobStore) -> None:
    await created(store, new_job("job-1"))

    await store.record_attempt_error("job-1", "lease expired")

    job = await store.get("job-1")
    assert (job.status, job.error) == (JobStatus.QUEUED, "lease expired")


# --- lineage and deletion --------------------------------------------------------------------


async def test_list_by_hash_returns_the_hash_jobs_oldest_first(
    store: JobStore, clock: ManualClock
) -> None:
    for job_id in ("job-c", "job-a", "job-b"):
        await created(store, new_job(job_id))
        clock.advance(1)
    await created(store, new_job("other", media_hash="hash-b"))

    assert [job.id for job in await store.list_by_hash("hash-a")] == ["job-c", "job-a", "job-b"]
    assert await store.list_by_hash("hash-none") == []


async def test_delete_by_hash_deletes_its_jobs_and_nulls_links_from_other_hashes(
    store: JobStore, clock: ManualClock
) -> None:
    await created(store, new_job("a-1", media_hash="hash-a"))
    await created(store, new_job("a-2", media_hash="hash-a", retry_of_job_id="a-1"))
    clock.advance(1)
    await created(store, new_job("b-1", media_hash="hash-b", retry_of_job_id="a-2"))
    await created(store, new_job("b-2", media_hash="hash-b", retry_of_job_id="b-1"))

    deleted = await store.delete_by_hash("hash-a")

    assert deleted == 2
    assert await store.list_by_hash("hash-a") == []
    with pytest.raises(JobNotFound):
        await store.get("a-1")
    b_1 = await store.get("b-1")
    assert b_1.retry_of_job_id is None
    assert b_1.status is JobStatus.QUEUED
    assert (await store.get("b-2")).retry_of_job_id == "b-1"
    assert await store.delete_by_hash("hash-a") == 0


async def test_deleting_the_hash_frees_its_fingerprints(store: JobStore) -> None:
    await created(store, new_job("job-1", fingerprint="fp"))
    await store.delete_by_hash("hash-a")

    assert await store.find_active("fp") is None
    assert (await store.create(new_job("job-2", fingerprint="fp"))).created


# --- listing by status -----------------------------------------------------------------------


async def test_list_by_status_is_oldest_update_first_and_limited(
    store: JobStore, clock: ManualClock
) -> None:
    for job_id in ("job-1", "job-2", "job-3", "job-4"):
        await created(store, new_job(job_id))
        clock.advance(1)
    for job_id in ("job-3", "job-1", "job-2"):  # updated in this order
        await store.mark_processing(job_id)
        clock.advance(1)

    processing = await store.list_by_status(JobStatus.PROCESSING, 10)
    first_two = await store.list_by_status(JobStatus.PROCESSING, 2)
    queued = await store.list_by_status(JobStatus.QUEUED, 10)

    assert [job.id for job in processing] == ["job-3", "job-1", "job-2"]
    assert [job.id for job in first_two] == ["job-3", "job-1"]
    assert [job.id for job in queued] == ["job-4"]
    assert await store.list_by_status(JobStatus.FAILED, 10) == []


async def finish(store: JobStore, clock: ManualClock, job_id: str, status: JobStatus) -> None:
    """Create a job and bring it to ``status``, the clock moving before every write
    (PostgreSQL's trigger stamps now() on a write that leaves ``updated_at`` as it was)."""
    await created(store, new_job(job_id, queue="critical" if "critical" in job_id else "default"))
    clock.advance(1)
    if status is JobStatus.CANCELED:
        await store.cancel(job_id)
        return
    await store.mark_processing(job_id)
    clock.advance(1)
    if status is JobStatus.COMPLETED:
        await store.complete(job_id, thumbnails())
    else:
        await store.fail(job_id, "gave up")


async def test_count_finished_since_counts_terminal_jobs_per_queue_and_status(
    store: JobStore, clock: ManualClock
) -> None:
    await finish(store, clock, "old", JobStatus.COMPLETED)
    clock.advance(10)
    since = clock.now()
    for job_id, status in (
        ("done-1", JobStatus.COMPLETED),
        ("done-2", JobStatus.COMPLETED),
        ("critical-done", JobStatus.COMPLETED),
        ("failed", JobStatus.FAILED),
        ("critical-canceled", JobStatus.CANCELED),
    ):
        await finish(store, clock, job_id, status)
    await created(store, new_job("waiting"))
    clock.advance(1)
    await store.mark_processing((await created(store, new_job("running"))).id)

    counts = await store.count_finished_since(since)

    assert dict(counts) == {
        ("default", JobStatus.COMPLETED): 2,
        ("critical", JobStatus.COMPLETED): 1,
        ("default", JobStatus.FAILED): 1,
        ("critical", JobStatus.CANCELED): 1,
    }
    assert dict(await store.count_finished_since(clock.now() + timedelta(seconds=1))) == {}


# --- listing (GET /api/jobs) and cancel ----------------------------------------------------


async def page_through(store: JobStore, job_filter: JobFilter, limit: int) -> list[str]:
    """Every page until the last, as the listing service walks them."""
    seen: list[str] = []
    cursor: JobCursor | None = None
    while True:
        page = await store.list_jobs(job_filter, after=cursor, limit=limit)
        assert len(page) <= limit
        seen.extend(job.id for job in page)
        if len(page) < limit:
            return seen
        cursor = JobCursor.after(page[-1])


async def test_list_jobs_pages_over_250_jobs_newest_first_without_gaps_or_repeats(
    store: JobStore, clock: ManualClock
) -> None:
    # Runs of jobs share a creation instant (ids out of creation order, too), so the
    # id tie-breaker decides many page boundaries.
    expected = []
    for number in range(250):
        job = await created(store, new_job(f"job-{(number * 7919) % 1000:03d}"))
        expected.append(job)
        if number % 9 == 8:
            clock.advance(0.000_001)
    newest_first = [job.id for job in sorted(expected, key=lambda j: (j.created_at, j.id))][::-1]

    for limit in (1, 40, 250, 251):
        seen = await page_through(store, JobFilter(), limit)
        assert seen == newest_first, f"limit {limit}"


async def test_list_jobs_filters_by_status_type_hash_and_creation_time(
    store: JobStore, clock: ManualClock
) -> None:
    start = clock.now()
    await created(store, new_job("thumb-a", media_hash="hash-a"))
    clock.advance(10)
    await created(store, new_job("cover-a", media_hash="hash-a", type=JobType.COVER))
    clock.advance(10)
    await created(store, new_job("thumb-b", media_hash="hash-b"))
    await store.cancel("thumb-b")
    await store.mark_processing("cover-a")

    async def ids(**fields: Any) -> list[str]:
        return [j.id for j in await store.list_jobs(JobFilter(**fields), after=None, limit=10)]

    assert await ids() == ["thumb-b", "cover-a", "thumb-a"]
    assert await ids(status=JobStatus.CANCELED) == ["thumb-b"]
    assert await ids(status=JobStatus.PROCESSING) == ["cover-a"]
    assert await ids(type=JobType.THUMBNAIL) == ["thumb-b", "thumb-a"]
    assert await ids(hash="hash-a") == ["cover-a", "thumb-a"]
    assert await ids(hash="hash-a", type=JobType.THUMBNAIL) == ["thumb-a"]
    # Both bounds are exclusive.
    assert await ids(created_after=start) == ["thumb-b", "cover-a"]
    assert await ids(created_before=start + timedelta(seconds=10)) == ["thumb-a"]
    assert await ids(created_after=start, created_before=start + timedelta(seconds=20)) == [
        "cover-a"
    ]
    assert await ids(hash="hash-c") == []


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.PROCESSING])
async def test_cancel_writes_canceled_once_and_repeats_return_the_job_unchanged(
    store: JobStore, clock: ManualClock, status: JobStatus
) -> None:
    await created(store, new_job("job-1"))
    await settle(store, "job-1", status)
    clock.advance(1)

    cancelled = await store.cancel("job-1")
    clock.advance(1)
    again = await store.cancel("job-1")

    assert cancelled.status is JobStatus.CANCELED
    assert again == cancelled == await store.get("job-1")


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED])
async def test_cancel_of_a_finished_job_is_refused_and_changes_nothing(
    store: JobStore, status: JobStatus
) -> None:
    await created(store, new_job("job-1"))
    await settle(store, "job-1", status)
    before = await store.get("job-1")

    with pytest.raises(IllegalTransition):
        await store.cancel("job-1")

    assert await store.get("job-1") == before


async def test_a_cancelled_job_cannot_be_completed_by_its_worker(store: JobStore) -> None:
    await created(store, new_job("job-1"))
    await store.mark_processing("job-1")
    await store.cancel("job-1")

    with pytest.raises(IllegalTransition):
        await store.complete("job-1", thumbnails())

    assert (await store.get("job-1")).status is JobStatus.CANCELED
