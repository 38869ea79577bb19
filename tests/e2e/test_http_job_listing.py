"""``GET /api/jobs`` (filters, keyset pages) and ``POST /api/jobs/{id}/cancel`` through the
ASGI app, on the memory adapters and on the production ones (PostgreSQL, Redis, S3).

The running-job side of cancel (killed tools, removed outputs, the webhook) is in
``test_job_cancel.py``, which needs a worker and FFmpeg.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.e2e.http_world import API, World, WorldFactory, memory_world
from tests.e2e.real_world import RealBackends
from tests.support.results import thumbnails
from vylux_core.jobs.job import JobStatus, JobType, NewJob
from vylux_core.services import task_for_job

H = "abcdef1234567890"


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param(
            "real", id="real", marks=[pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]
        ),
    ]
)
def make_world(request: pytest.FixtureRequest) -> WorldFactory:
    if request.param == "memory":
        return memory_world
    backends: RealBackends = request.getfixturevalue("real_backends")
    return backends.world


async def add_job(
    world: World, job_id: str, *, media_hash: str = H, job_type: JobType = JobType.THUMBNAIL
) -> None:
    """A job row and its queued task, as ``POST /api/jobs`` leaves them (without its
    per-minute rate limit, which 250 jobs would run into)."""
    outcome = await world.jobs.create(
        NewJob(
            id=job_id, type=job_type, hash=media_hash, source=f"uploads/{job_id}.png",
            options={}, request_fingerprint=f"fp-{job_id}",
        )
    )  # fmt: skip
    assert outcome.created
    await world.queue.enqueue(task_for_job(outcome.job))


async def listing(world: World, **params: Any) -> tuple[int, dict[str, Any]]:
    response = await world.client.get("/api/jobs", params=params, headers=API)
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def test_listing_pages_over_250_jobs_without_gaps_or_repeats(world: World) -> None:
    ids = {f"job-{number:03d}" for number in range(250)}
    for job_id in sorted(ids, key=lambda text: text[::-1]):  # not in id order
        await add_job(world, job_id)

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 40}
        if cursor is not None:
            params["cursor"] = cursor
        status, body = await listing(world, **params)
        assert status == 200, body
        pages += 1
        seen.extend(job["job_id"] for job in body["jobs"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 7  # 6 full pages of 40 and one of 10
    assert len(seen) == len(set(seen)) == 250
    assert set(seen) == ids
    created = [(await world.jobs.get(job_id)).created_at for job_id in seen]
    assert created == sorted(created, reverse=True)  # newest first


async def test_listing_filters_and_shows_jobs_as_get_does(world: World) -> None:
    await add_job(world, "thumb-1")
    await add_job(world, "cover-1", job_type=JobType.COVER)
    await add_job(world, "thumb-2", media_hash="other-hash")

    _, by_type = await listing(world, type="video:cover")
    _, by_hash = await listing(world, hash="other-hash", status="queued")
    _, none = await listing(world, status="completed")
    _, future = await listing(world, created_after="2999-01-01T00:00:00Z")
    _, everything = await listing(world, created_before="2999-01-01t00:00:00.5+02:00")
    single = (await world.client.get("/api/jobs/cover-1", headers=API)).json()

    assert by_type == {"jobs": [single], "next_cursor": None}
    assert [job["job_id"] for job in by_hash["jobs"]] == ["thumb-2"]
    assert none == future == {"jobs": [], "next_cursor": None}
    assert {job["job_id"] for job in everything["jobs"]} == {"thumb-1", "cover-1", "thumb-2"}


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"status": "cancelled"},
            "invalid status 'cancelled'; one of: queued, processing, completed, failed, canceled",
            id="status",
        ),
        pytest.param({"type": "video"}, "invalid type 'video'; one of: image:thumbnail, "
                     "video:cover, video:preview, video:transcode, video:full, video:storyboard, "
                     "audio:transcode", id="type"),
        pytest.param({"hash": ""}, "invalid hash: hash is required", id="empty-hash"),
        pytest.param({"hash": "a/b"}, "invalid hash: hash must be 1-128 characters of A-Z, "
                     "a-z, 0-9, '_' or '-'", id="hash"),
        pytest.param({"created_after": "2026-04-01 08:00:00+00:00"},
                     "invalid created_after '2026-04-01 08:00:00+00:00': an RFC 3339 time with "
                     "a zone, e.g. 2026-04-01T08:00:00Z", id="created-after-with-a-space"),
        pytest.param(
            {"created_after": "yesterday"},
            "invalid created_after 'yesterday': an RFC 3339 time with a zone, "
            "e.g. 2026-04-01T08:00:00Z",
            id="created-after",
        ),
        pytest.param(
            {"created_before": "2026-04-01T08:00:00"},
            "invalid created_before '2026-04-01T08:00:00': an RFC 3339 time with a zone, "
            "e.g. 2026-04-01T08:00:00Z",
            id="created-before-without-zone",
        ),
        pytest.param({"limit": "0"}, "invalid limit '0': a whole number from 1 to 200", id="0"),
        pytest.param({"limit": "201"}, "invalid limit '201': a whole number from 1 to 200",
                     id="201"),
        pytest.param({"limit": "ten"}, "invalid limit 'ten': a whole number from 1 to 200",
                     id="ten"),
        pytest.param({"cursor": "!!"}, "invalid cursor: not one this API handed out", id="junk"),
        pytest.param(
            {"cursor": _cursor('{"t":"2026-01-01T00:00:00","id":"x"}')},
            "invalid cursor: not one this API handed out",
            id="cursor-without-zone",
        ),
        pytest.param(
            {"cursor": _cursor('{"id":"x"}')},
            "invalid cursor: not one this API handed out",
            id="cursor-without-time",
        ),
        pytest.param(
            {"page": "2"},
            "unknown query parameter 'page'; allowed: status, type, hash, created_after, "
            "created_before, limit, cursor",
            id="unknown",
        ),
    ],
)  # fmt: skip
async def test_bad_listing_parameters_are_400_naming_the_parameter(
    world: World, params: dict[str, str], message: str
) -> None:
    assert await listing(world, **params) == (400, {"message": message})


async def test_a_repeated_listing_parameter_is_400(world: World) -> None:
    response = await world.client.get("/api/jobs?status=queued&status=failed", headers=API)
    assert (response.status_code, response.json()) == (
        400,
        {"message": "query parameter 'status' is given more than once"},
    )


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/jobs"), ("POST", "/api/jobs/job-1/cancel")]
)
async def test_listing_and_cancel_need_the_api_key(world: World, method: str, path: str) -> None:
    response = await world.client.request(method, path)
    assert (response.status_code, response.json()) == (401, {"message": "missing API key"})


async def test_cancel_of_a_queued_job_removes_its_task_and_is_idempotent(world: World) -> None:
    await add_job(world, "job-1")
    assert await world.queue.contains("job-1")

    first = await world.client.post("/api/jobs/job-1/cancel", headers=API)
    again = await world.client.post("/api/jobs/job-1/cancel", headers=API)
    shown = await world.client.get("/api/jobs/job-1", headers=API)

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "canceled"
    assert first.json() == again.json() == shown.json()
    assert not await world.queue.contains("job-1")
    _, canceled = await listing(world, status="canceled")
    assert [job["job_id"] for job in canceled["jobs"]] == ["job-1"]


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED])
async def test_cancel_of_a_finished_job_is_409(world: World, status: JobStatus) -> None:
    await add_job(world, "job-1")
    await world.jobs.mark_processing("job-1")
    if status is JobStatus.COMPLETED:
        await world.jobs.complete("job-1", thumbnails())
    else:
        await world.jobs.fail("job-1", "gave up")

    response = await world.client.post("/api/jobs/job-1/cancel", headers=API)

    assert (response.status_code, response.json()) == (409, {"message": "job already finished"})
    assert (await world.jobs.get("job-1")).status is status


async def test_cancel_of_an_unknown_job_is_404(world: World) -> None:
    response = await world.client.post("/api/jobs/no-such-job/cancel", headers=API)
    assert (response.status_code, response.json()) == (404, {"message": "job not found"})
