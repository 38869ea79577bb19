"""The jobs and cleanup API: I20–I25, idempotency, strict bodies, body cap, rate limit."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import Message

from tests.e2e.http_world import API, World, memory_world
from tests.support.queue import dequeue_one
from vylux_adapters.memory import fake_image
from vylux_core.jobs.job import JobType
from vylux_core.jobs.results import structure_results
from vylux_core.services import JobLimits

H = "abcdef1234567890"
SOURCE = "uploads/movie.mp4"
THUMBNAIL = {"type": "image:thumbnail", "hash": H, "source": "uploads/a.png"}
ALL_QUEUES = {"critical": 1, "default": 1, "video:large": 1}
STAGE_PLAN_RESULTS: dict[str, Any] = {
    "stages": {
        "source": {"status": "ready"},
        "cover": {"status": "failed", "error_code": "extract_failed", "retryable": True},
        "preview": {"status": "failed", "error_code": "generate_failed", "retryable": True},
        "transcode": {"status": "skipped", "reason": "blocked_by_failed_dependencies"},
    },
    "artifacts": {},
    "retry_plan": {
        "allowed": True,
        "strategy": "retry_tasks",
        "job_types": ["video:cover", "video:preview", "video:transcode"],
        "stages": ["cover", "preview", "transcode"],
        "reason": "cover/preview stage failed",
    },
}
# The same result typed, as a worker hands it to the store.
STAGE_PLAN = structure_results(JobType.FULL, STAGE_PLAN_RESULTS)
FULL_OPTIONS = {
    "cover": {"timestamp_sec": 2},
    "preview": {"format": "gif"},
    "transcode": {"encrypt": True},
}


# --- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param({}, "missing API key", id="i20-missing"),
        pytest.param({"X-API-Key": ""}, "missing API key", id="empty"),
        pytest.param({"X-API-Key": "wrong"}, "invalid API key", id="wrong"),
        pytest.param({"X-API-Key": "test-api-key "}, "invalid API key", id="not-trimmed"),
        pytest.param({"Authorization": "Bearer test-api-key"}, "missing API key", id="bearer"),
    ],
)
async def test_i20_api_key_is_required(world: World, headers: dict[str, str], message: str) -> None:
    response = await world.client.post("/api/jobs", json=THUMBNAIL, headers=headers)
    assert (response.status_code, response.json()) == (401, {"message": message})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/jobs/job-000001"),
        ("POST", "/api/jobs/job-000001/retry"),
        ("DELETE", f"/api/media/{H}"),
    ],
)
async def test_i25_every_api_route_needs_the_key(world: World, method: str, path: str) -> None:
    response = await world.client.request(method, path)
    assert (response.status_code, response.json()) == (401, {"message": "missing API key"})


async def test_header_name_is_case_insensitive(world: World) -> None:
    response = await world.client.post(
        "/api/jobs", json=THUMBNAIL, headers={"x-api-KEY": "test-api-key"}
    )
    assert response.status_code == 202


# --- create / get --------------------------------------------------------------------------------


async def test_i21_i22_create_then_get(world: World) -> None:
    created = await world.create_job(THUMBNAIL)
    assert created.status_code == 202
    assert created.json() == {"job_id": "job-000001", "hash": H, "status": "queued"}
    assert created.headers["content-type"] == "application/json"
    fetched = await world.client.get("/api/jobs/job-000001", headers=API)
    assert fetched.status_code == 200
    body = fetched.json()
    assert list(body) == [
        "job_id",
        "type",
        "hash",
        "status",
        "callback_status",
        "progress",
        "created_at",
        "updated_at",
    ]
    assert body["hash"] == H
    assert (body["type"], body["status"], body["callback_status"], body["progress"]) == (
        "image:thumbnail",
        "queued",
        "pending",
        0,
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])


async def test_get_shows_error_results_and_retry_link_in_order(world: World) -> None:
    await world.put_source(SOURCE, b"v" * 10, "video/mp4")
    job_id = (await world.create_job({**THUMBNAIL, "type": "video:full", "source": SOURCE})).json()[
        "job_id"
    ]
    await world.jobs.mark_processing(job_id)
    await world.jobs.fail(job_id, "cover failed", STAGE_PLAN)
    retry = await world.client.post(f"/api/jobs/{job_id}/retry", headers=API)
    retry_id = retry.json()["jobs"][0]["job_id"]
    failed = (await world.client.get(f"/api/jobs/{job_id}", headers=API)).json()
    retried = (await world.client.get(f"/api/jobs/{retry_id}", headers=API)).json()
    assert list(failed)[-4:] == ["error", "results", "created_at", "updated_at"]
    assert (failed["error"], failed["results"]) == ("cover failed", STAGE_PLAN_RESULTS)
    assert list(retried)[6] == "retry_of_job_id"
    assert retried["retry_of_job_id"] == job_id


async def test_unknown_job_is_404(world: World) -> None:
    response = await world.client.get("/api/jobs/nope", headers=API)
    assert (response.status_code, response.json()) == (404, {"message": "job not found"})


async def test_identical_post_twice_returns_the_same_job(world: World) -> None:
    first = await world.create_job(THUMBNAIL)
    second = await world.create_job({**THUMBNAIL, "callback_url": "http://93.184.216.34/cb"})
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json() == first.json()


async def test_completed_duplicate_returns_its_results(world: World) -> None:
    job_id = (await world.create_job(THUMBNAIL)).json()["job_id"]
    results = [
        {"variant": "thumb", "key": f"images/ab/{H}/thumb.webp", "format": "webp", "size": 9}
    ]
    await world.jobs.mark_processing(job_id)
    await world.jobs.complete(job_id, structure_results(JobType.THUMBNAIL, results))
    again = await world.create_job(THUMBNAIL)
    assert (again.status_code, again.json()) == (
        200,
        {"job_id": None, "hash": H, "status": "completed", "results": results},
    )


async def test_processing_duplicate_reports_processing(world: World) -> None:
    job_id = (await world.create_job(THUMBNAIL)).json()["job_id"]
    await world.jobs.mark_processing(job_id)
    again = await world.create_job(THUMBNAIL)
    assert again.json() == {"job_id": job_id, "hash": H, "status": "processing"}


async def test_trace_context_reaches_the_task(world: World) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("client") as span:
        await world.create_job(THUMBNAIL)
        trace_id = format(span.get_span_context().trace_id, "032x")
    lease = await dequeue_one(world.consumer, ALL_QUEUES, "test-worker", 60)
    assert lease is not None
    assert lease.task.payload["traceparent"].split("-")[1] == trace_id


async def test_queue_outage_still_accepts_the_job(world: World) -> None:
    world.outages.down.add("queue")
    response = await world.create_job(THUMBNAIL)
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/jobs"),
        ("GET", "/api/jobs/x"),
        ("POST", "/api/jobs/x/retry"),
        ("DELETE", f"/api/media/{H}"),
    ],
)
async def test_database_outage_is_503(world: World, method: str, path: str) -> None:
    world.outages.down.add("database")
    response = await world.client.request(method, path, json=THUMBNAIL, headers=API)
    assert (response.status_code, response.json()) == (503, {"message": "database unavailable"})


async def test_unexpected_error_is_a_bare_500(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.outages.crashed.add("database")
    response = await world.client.get("/api/jobs/x", headers={**API, "X-Request-Id": "req-42"})
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    assert response.headers["x-request-id"] == "req-42"
    assert "10.1.2.3" not in response.text
    assert any("req-42" in record.getMessage() for record in caplog.records)


# --- request validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "invalid JSON body: empty body", id="empty"),
        pytest.param(
            b"{",
            "invalid JSON body: Expecting property name enclosed in double quotes"
            " at line 1 column 2",
            id="syntax",
        ),
        pytest.param(
            b'{"type":"image:thumbnail"} {}',
            "invalid JSON body: Extra data at line 1 column 28",
            id="trailing-data",
        ),
        pytest.param(
            b'{"type":"image:thumbnail","type":"video:cover"}',
            'invalid JSON body: duplicate field "type"',
            id="duplicate-key",
        ),
        pytest.param(b"[]", "invalid JSON body: expected an object", id="array"),
        pytest.param(b"null", "invalid JSON body: expected an object", id="null"),
        pytest.param(b'"x"', "invalid JSON body: expected an object", id="string"),
        pytest.param(
            b'{"TYPE":"image:thumbnail"}',
            'invalid JSON body: unknown field "TYPE"',
            id="case-sensitive",
        ),
        pytest.param(
            b'{"type":"image:thumbnail","extra":1}',
            'invalid JSON body: unknown field "extra"',
            id="unknown-field",
        ),
        pytest.param(
            b'{"type":"image:thumbnail","hash":5}',
            'invalid JSON body: field "hash" must be a string',
            id="wrong-type",
        ),
        pytest.param(b'{"n":NaN}', "invalid JSON body: NaN is not a JSON number", id="nan"),
        pytest.param(
            b"\xef\xbb\xbf{}",
            "invalid JSON body: Unexpected UTF-8 BOM (decode using utf-8-sig) at line 1 column 1",
            id="bom",
        ),
        pytest.param(
            b'{"type":"\xff"}', "invalid JSON body: body is not valid UTF-8", id="not-utf8"
        ),
        pytest.param(b"[" * 50000, "invalid JSON body: nesting too deep", id="deep"),
    ],
)
async def test_strict_json_bodies(world: World, body: bytes, message: str) -> None:
    response = await world.client.post("/api/jobs", content=body, headers=API)
    assert (response.status_code, response.json()) == (400, {"message": message})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"type": "video:nope"}, 'unsupported job type: "video:nope"', id="type"),
        pytest.param({"hash": ""}, "hash is required", id="hash"),
        pytest.param(
            {"hash": "a/b"},
            "hash must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'",
            id="hash-chars",
        ),
        pytest.param({"source": ""}, "source is required", id="source"),
        pytest.param(
            {"callback_url": "ftp://x/cb"},
            "callback_url must use http:// or https://",
            id="callback-scheme",
        ),
        pytest.param(
            {"callback_url": "https:///cb"}, "callback_url must include a host", id="callback-host"
        ),
        pytest.param(
            {"options": {"outputs": [{"variant": "t", "size": 1}]}},
            'invalid options: unknown field "size" in options.outputs[0]',
            id="unknown-option",
        ),
        pytest.param(
            {"type": "video:full", "options": {"timestamp_sec": 1}},
            'invalid options: unknown field "timestamp_sec" in options',
            id="flat-full-options",
        ),
    ],
)
async def test_validation_messages(world: World, changes: dict[str, Any], message: str) -> None:
    response = await world.create_job({**THUMBNAIL, **changes})
    assert (response.status_code, response.json()) == (400, {"message": message})


async def test_thumbnail_outputs_over_the_result_budget_are_refused_at_submission(
    world: World,
) -> None:
    """16 AVIF outputs of 8192x8192 from one source: 16 x 67 MP of encoding, refused
    before a job row or a task exists."""
    await world.put_source("uploads/a.png", fake_image(4, 4))
    outputs = [
        {"variant": f"v{n}", "width": 8192, "height": 8192, "format": "avif"} for n in range(16)
    ]
    body = {**THUMBNAIL, "options": {"outputs": outputs}}

    response = await world.create_job(body)

    assert (response.status_code, response.json()) == (
        400,
        {
            "message": "invalid options: options.outputs[0]: 8192x8192 is 67108864 pixels, "
            "more than the result limit of 40000000"
        },
    )
    assert await world.jobs.list_by_hash(H) == []
    # Within the budget (and one side alone, which depends on the source) is accepted.
    outputs = [
        {"variant": "big", "width": 6000, "height": 6000, "format": "avif"},
        {"variant": "wide", "width": 8192, "format": "webp"},
    ]
    accepted = await world.create_job({**THUMBNAIL, "options": {"outputs": outputs}})
    assert accepted.status_code == 202


async def test_preflight_missing_and_oversized_sources() -> None:
    async with memory_world(job_limits=JobLimits(max_file_size=4, large_file_threshold=2)) as world:
        missing = await world.create_job({**THUMBNAIL, "type": "video:transcode", "source": SOURCE})
        await world.put_source(SOURCE, b"0123456789", "video/mp4")
        oversized = await world.create_job({**THUMBNAIL, "type": "video:full", "source": SOURCE})
    assert (missing.status_code, missing.json()) == (400, {"message": "source object not found"})
    assert (oversized.status_code, oversized.json()) == (
        413,
        {"message": "source file exceeds MAX_FILE_SIZE (4 bytes)"},
    )


@pytest.mark.parametrize(
    ("head", "image_type"),
    [(b"\xff\xd8\xff\xdb", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png")],
)
async def test_preflight_refuses_an_image_as_a_video_source(
    world: World, head: bytes, image_type: str
) -> None:
    await world.put_source(SOURCE, head + b"\x00" * 64, "video/mp4")

    response = await world.create_job({**THUMBNAIL, "type": "video:transcode", "source": SOURCE})

    assert (response.status_code, response.json()) == (
        400, {"message": f"source is not a video ({image_type})"},
    )  # fmt: skip


async def test_source_storage_outage_at_preflight_is_503(world: World) -> None:
    world.outages.down.add("source")
    response = await world.create_job({**THUMBNAIL, "type": "video:transcode", "source": SOURCE})
    assert (response.status_code, response.json()) == (503, {"message": "storage unavailable"})


# --- body cap ------------------------------------------------------------------------------------


async def test_declared_oversized_body_is_413_unread(world: World) -> None:
    body = json.dumps({**THUMBNAIL, "source": "x" * (64 * 1024)}).encode()
    response = await world.client.post("/api/jobs", content=body, headers=API)
    assert (response.status_code, response.json()) == (413, {"message": "request body too large"})


async def test_chunked_oversized_body_is_413(world: World) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type":"image:thumbnail","source":"'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = await world.client.post("/api/jobs", content=chunks(), headers=API)
    assert (response.status_code, response.json()) == (413, {"message": "request body too large"})


async def test_unframed_http2_body_is_still_counted() -> None:
    # HTTP/2 bodies need no Content-Length; only HTTP/1.x requests without framing
    # headers skip the counting, because there they cannot have a body.
    async with memory_world(http={"max_body_bytes": 10}) as world:
        body = [b'{"type":"image:thumbnail",', b'"source":"uploads/a.png"}']
        sent: list[Message] = []

        async def receive() -> Message:
            chunk = body.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(body)}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "2", "method": "POST",
            "scheme": "http", "path": "/api/jobs", "raw_path": b"/api/jobs",
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
            "headers": [(b"host", b"vylux.test"), (b"x-api-key", API["X-API-Key"].encode())],
        }  # fmt: skip
        await world.app(scope, receive, send)
    assert sent[0]["status"] == 413


async def test_body_cap_is_configurable() -> None:
    async with memory_world(http={"max_body_bytes": 10}) as world:
        response = await world.create_job(THUMBNAIL)
    assert response.status_code == 413


# --- rate limit ----------------------------------------------------------------------------------


async def test_31st_jobs_request_is_429_and_create_and_retry_share_it(world: World) -> None:
    statuses = [
        (await world.create_job({**THUMBNAIL, "hash": f"h{n}"})).status_code for n in range(29)
    ]
    retry = await world.client.post("/api/jobs/job-000001/retry", headers=API)
    limited = await world.create_job(THUMBNAIL)
    limited_retry = await world.client.post("/api/jobs/job-000001/retry", headers=API)
    assert statuses == [202] * 29
    assert retry.status_code == 409  # the 30th request: counted, then refused by the service
    assert (limited.status_code, limited.text) == (429, "Too Many Requests")
    assert limited.headers["retry-after"] == "60"
    assert limited.headers["content-type"] == "text/plain; charset=UTF-8"
    assert limited_retry.status_code == 429


async def test_auth_runs_before_the_rate_limit(world: World) -> None:
    for _ in range(40):
        assert (await world.client.post("/api/jobs", json=THUMBNAIL)).status_code == 401
    assert (await world.create_job(THUMBNAIL)).status_code == 202
    for n in range(29):
        await world.create_job({**THUMBNAIL, "hash": f"h{n}"})
    unauthenticated = await world.client.post("/api/jobs", json=THUMBNAIL)
    assert unauthenticated.status_code == 401  # never 429 without the key


async def test_get_and_delete_are_not_rate_limited(world: World) -> None:
    for n in range(30):
        await world.create_job({**THUMBNAIL, "hash": f"h{n}"})
    assert (await world.client.get("/api/jobs/job-000001", headers=API)).status_code == 200
    assert (await world.client.delete(f"/api/media/{H}", headers=API)).status_code == 204


async def test_jobs_limiter_outage_fails_open(world: World) -> None:
    world.outages.down.add("rate_limiter")
    statuses = {
        (await world.create_job({**THUMBNAIL, "hash": f"h{n}"})).status_code for n in range(35)
    }
    assert statuses == {202}


# --- retry ---------------------------------------------------------------------------------------


async def test_i23_retry_failed_video_full_creates_stage_jobs(world: World) -> None:
    await world.put_source(SOURCE, b"v" * 10, "video/mp4")
    body = {"type": "video:full", "hash": H, "source": SOURCE, "options": FULL_OPTIONS}
    job_id = (await world.create_job(body)).json()["job_id"]
    await world.jobs.mark_processing(job_id)
    await world.jobs.fail(job_id, "cover and preview failed", STAGE_PLAN)

    response = await world.client.post(f"/api/jobs/{job_id}/retry", headers=API)

    assert response.status_code == 202
    body = response.json()
    assert (body["source_job_id"], body["strategy"]) == (job_id, "retry_tasks")
    assert [job["type"] for job in body["jobs"]] == [
        "video:cover",
        "video:preview",
        "video:transcode",
    ]
    for job in body["jobs"]:
        assert list(job) == ["job_id", "type", "status", "retry_of_job_id"]
        assert (job["status"], job["retry_of_job_id"]) == ("queued", job_id)
        row = await world.jobs.get(job["job_id"])
        assert row.retry_of_job_id == job_id


async def test_retry_reuses_an_active_job_with_its_own_link(world: World) -> None:
    cover = {"type": "video:cover", "hash": H, "source": SOURCE}
    failed_id = (await world.create_job(cover)).json()["job_id"]
    await world.jobs.mark_processing(failed_id)
    await world.jobs.fail(failed_id, "boom")
    first = (await world.client.post(f"/api/jobs/{failed_id}/retry", headers=API)).json()
    second = (await world.client.post(f"/api/jobs/{failed_id}/retry", headers=API)).json()
    assert first["strategy"] == "retry_job"
    assert second["jobs"] == first["jobs"]
    assert first["jobs"][0]["retry_of_job_id"] == failed_id


async def test_retry_of_a_non_failed_job_is_409(world: World) -> None:
    job_id = (await world.create_job(THUMBNAIL)).json()["job_id"]
    response = await world.client.post(f"/api/jobs/{job_id}/retry", headers=API)
    assert (response.status_code, response.json()) == (
        409,
        {"message": "only failed jobs can be retried"},
    )


async def test_retry_of_an_unknown_job_is_404(world: World) -> None:
    response = await world.client.post("/api/jobs/nope/retry", headers=API)
    assert (response.status_code, response.json()) == (404, {"message": "job not found"})


# --- cleanup -------------------------------------------------------------------------------------


async def test_i24_delete_media_twice(world: World) -> None:
    await world.create_job(THUMBNAIL)
    await world.put_media(f"images/ab/{H}/thumb.webp", b"x", "image/webp")
    first = await world.client.delete(f"/api/media/{H}", headers=API)
    second = await world.client.delete(f"/api/media/{H}", headers=API)
    assert (first.status_code, first.content, second.status_code) == (204, b"", 204)
    assert [key async for key in world.media.list(f"images/ab/{H}/")] == []
    assert (await world.client.get("/api/jobs/job-000001", headers=API)).status_code == 404


@pytest.mark.parametrize("media_hash", ["a.b", "a%2Fb", "x" * 129])
async def test_delete_with_an_invalid_hash_is_400(world: World, media_hash: str) -> None:
    response = await world.client.delete(f"/api/media/{media_hash}", headers=API)
    assert response.status_code == 400


async def test_delete_during_a_storage_outage_is_503(world: World) -> None:
    world.outages.down.add("media")
    response = await world.client.delete(f"/api/media/{H}", headers=API)
    assert (response.status_code, response.json()) == (503, {"message": "storage unavailable"})
