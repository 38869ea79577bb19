"""http-api §14's acceptance cases on the production adapters (I1–I27).

PostgreSQL holds the jobs, keys and cache index, Redis the queue and the rate limiter,
two SeaweedFS buckets the source and media objects, and libvips renders: the wiring
of ``vylux_cli.bootstrap`` (see ``real_world.py``), driven through the ASGI app. The
in-memory twins of these tests, with the finer-grained cases, are the other
``test_http_*`` modules; here each case is about what only real storage, SQL and a
real queue can get wrong (key encoding in S3, stored content types, rows and tasks
really written, real outages).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import pytest
import pyvips  # type: ignore[import-untyped]

from tests.e2e.http_world import (
    API,
    HMAC_SECRET,
    IMMUTABLE,
    KEY_TOKEN_SECRET,
    PLAIN,
    SOURCE_ERRORS,
    World,
    WorldFactory,
    check_health_endpoints,
    check_media_purge_removes_tracked_renditions,
    source_error,
)
from tests.e2e.real_world import RealBackends
from tests.support.deadlines import scaled
from tests.support.metrics import assert_i27_metrics
from tests.support.objects import object_exists
from tests.support.results import failed_full_result
from vylux_core.jobs.job import JobType
from vylux_core.jobs.results import FullStage, RetryStrategy
from vylux_core.security.key_token import mint_key_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]

H = "abcdef1234567890"
DATA = bytes(range(256)) * 4  # 1 KiB, every offset distinguishable
THUMBNAIL = {"type": "image:thumbnail", "hash": H, "source": "uploads/a.png"}
VIDEO_SOURCE = "uploads/movie.mp4"
# I1: "a cache/… object appears in the media bucket within 5 s" (on an idle machine;
# the test waits for the object, scaled like every deadline, rather than timing it).
CACHE_OBJECT_WAIT = scaled(5.0)


@pytest.fixture
def make_world(real_backends: RealBackends) -> WorldFactory:
    return real_backends.world


def png(width: int, height: int) -> bytes:
    """A real PNG (the memory world's fake images would not decode in libvips)."""
    image = pyvips.Image.black(width, height).new_from_image([200, 30, 90]).cast("uchar")
    return bytes(image.write_to_buffer(".png"))


def dimensions(encoded: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(encoded, "")
    return int(image.width), int(image.height)


async def cache_objects(world: World) -> list[str]:
    """The ``cache/`` keys of the media bucket once there is one, polling as a client
    would (the write happens after the response, in the background)."""
    deadline = time.monotonic() + CACHE_OBJECT_WAIT
    while True:
        keys = [key async for key in world.media.list("cache/")]
        if keys or time.monotonic() > deadline:
            return keys
        await asyncio.sleep(0.05)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- /img: I1–I4, I26 ---------------------------------------------------------------------------


async def test_i1_renders_webp_from_s3_and_stores_a_cache_copy(world: World) -> None:
    await world.put_source("sample image.png", png(2, 2))
    path = world.img_path("w64", "sample image.png", "webp", encoded="sample%20image.png")

    response = await world.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == IMMUTABLE
    # Width only fits (the reference cropped a square): a square source stays square.
    assert dimensions(response.content) == (64, 64)
    (stored,) = await cache_objects(world)
    assert stored.startswith("cache/")
    assert stored.endswith(".webp")
    assert await world.media.read_bytes(stored, max_bytes=1 << 20) == response.content
    # With the memory copy gone, the stored one answers, with the same validator.
    world.renditions.discard(stored.removeprefix("cache/").rsplit(".", 1)[0])
    again = await world.client.get(path)
    assert (again.status_code, again.content) == (200, response.content)
    assert again.headers["etag"] == response.headers["etag"]
    assert world.readers.open == 0


@pytest.mark.parametrize(("source", "status", "message"), SOURCE_ERRORS)
async def test_i2_i3_source_errors(
    world: World, source: bytes | None, status: int, message: str
) -> None:
    await source_error(world, source, status, message)
    assert [key async for key in world.media.list("cache/")] == []


async def test_i4_unsupported_format_even_with_a_valid_signature(world: World) -> None:
    await world.put_source("uploads/x.png", png(2, 2))
    sig = hmac.new(HMAC_SECRET.encode(), b"w64/uploads/x.png.bmp", hashlib.sha256).hexdigest()
    response = await world.client.get(f"/img/{sig}/w64/uploads%2Fx.png.bmp")
    assert (response.status_code, response.json()) == (
        400,
        {"message": "unsupported output format"},
    )
    assert "x-fallback" not in response.headers


@pytest.mark.parametrize(
    ("opts", "status", "message"),
    [
        pytest.param(
            "w8192_h8192",
            400,
            "bad options: 8192x8192 is 67108864 pixels, more than the result limit of 40000000",
            id="box-over-budget-400",
        ),
        pytest.param(
            "w8192",
            422,
            "result of 8192x8192 exceeds the result limit of 40000000 pixels",
            id="fit-result-over-budget-422",
        ),
        pytest.param(
            "w4000_h4000",
            422,
            "enlarging 4x4 to 4000x4000 exceeds the maximum upscale factor of 32",
            id="upscale-factor-422",
        ),
    ],
)
async def test_tiny_source_cannot_buy_a_huge_rendition(
    world: World, opts: str, status: int, message: str
) -> None:
    await world.put_source("tiny.png", png(4, 4))

    response = await world.client.get(world.img_path(opts, "tiny.png", "avif"))

    assert (response.status_code, response.json()) == (status, {"message": message})
    assert [key async for key in world.media.list("cache/")] == []
    assert world.readers.open == 0
    # Within both limits the same source renders.
    ok = await world.client.get(world.img_path("w128_h128", "tiny.png", "avif"))
    assert (ok.status_code, dimensions(ok.content)) == (200, (128, 128))


async def test_renditions_carry_no_gps_and_p3_comes_out_as_srgb(world: World) -> None:
    image = pyvips.Image.black(96, 64).new_from_image([234, 51, 34]).cast("uchar")
    profile = image.copy(interpretation="srgb").icc_transform("p3").get("icc-profile-data")
    image = image.copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd3-GPSLatitudeRef", "N")
    image.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)
    await world.put_source("phone.jpg", bytes(image.jpegsave_buffer(Q=95)))

    for fmt in ("webp", "png", "avif", "jpg", "gif"):
        response = await world.client.get(world.img_path("w48", "phone.jpg", fmt))
        assert response.status_code == 200
        out = pyvips.Image.new_from_buffer(response.content, "")
        assert [f for f in out.get_fields() if f.startswith(("exif", "xmp", "icc", "iptc"))] == []
        red, green, blue = out(24, 16)[:3]
        assert red > 240, (fmt, red)
        assert max(green, blue) < 20, (fmt, green, blue)


async def test_i26_delete_media_removes_tracked_image_cache(world: World) -> None:
    source_key = await check_media_purge_removes_tracked_renditions(world, png(2, 2), cache_objects)
    assert await object_exists(world.source, source_key)  # the upload itself is not derived media


# --- /original, /thumb, /stream: I5–I14 ---------------------------------------------------------


async def test_i5_i6_i7_original(world: World) -> None:
    key = "uploads/demo/sample image.png"
    await world.put_source(key, DATA, "image/png")

    ok = await world.client.get(
        world.original_path(key, encoded="uploads%2Fdemo%2Fsample%20image.png")
    )
    bad_sig = await world.client.get("/original/bad-signature/uploads%2Fdemo%2Fsample%20image.png")
    missing = await world.client.get(world.original_path("uploads/demo/missing.png"))

    assert (ok.status_code, ok.content) == (200, DATA)
    assert ok.headers["content-type"] == "image/png"
    assert ok.headers["cache-control"] == IMMUTABLE
    assert ok.headers["content-length"] == str(len(DATA))
    assert (bad_sig.status_code, bad_sig.json()) == (403, {"message": "invalid signature"})
    assert (missing.status_code, missing.json()) == (404, {"message": "not found"})
    assert world.readers.open == 0


async def test_range_request_reads_a_slice_from_s3(world: World) -> None:
    await world.put_source("v.bin", DATA, "application/octet-stream")
    response = await world.client.get(
        world.original_path("v.bin"), headers={"Range": "bytes=100-199"}
    )
    assert (response.status_code, response.content) == (206, DATA[100:200])
    assert response.headers["content-range"] == f"bytes 100-199/{len(DATA)}"
    assert world.readers.open == 0


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        pytest.param(f"images/ab/{H}/thumb.png", "image/png", id="i8-thumbnail"),
        pytest.param(f"videos/ab/{H}/cover.jpg", "image/jpeg", id="i9-cover"),
    ],
)
async def test_i8_i9_thumb_serves_media_objects(world: World, key: str, content_type: str) -> None:
    await world.put_media(key, DATA, content_type)
    response = await world.client.get(world.thumb_path(key))
    assert (response.status_code, response.content) == (200, DATA)
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == IMMUTABLE


async def test_i10_i11_i12_thumb_errors(world: World) -> None:
    key = f"images/ab/{H}/thumb.png"
    await world.put_media(key, DATA)
    bad = await world.client.get(f"/thumb/{'0' * 64}/{key}")
    missing = await world.client.get(world.thumb_path(f"images/ab/{H}/other.png"))
    original_sig = world.original_path(key).split("/")[2]
    cross = await world.client.get(f"/thumb/{original_sig}/{key}")
    assert [(r.status_code, r.json()["message"]) for r in (bad, missing, cross)] == [
        (403, "invalid signature"),  # I10
        (404, "not found"),  # I11
        (403, "invalid signature"),  # I12
    ]


async def test_i13_i14_stream(world: World) -> None:
    playlist = b"#EXTM3U\n#EXT-X-VERSION:7\n"
    await world.put_media(f"videos/ab/{H}/master.m3u8", playlist, "application/vnd.apple.mpegurl")
    await world.put_media(f"videos/ab/{H}/secret.m3u8", b"x", "application/vnd.apple.mpegurl")

    ok = await world.client.get(f"/stream/{H}/master.m3u8")
    traversal = await world.raw("GET", f"/stream/{H}/../secret.m3u8".encode())

    assert (ok.status_code, ok.content) == (200, playlist)
    assert ok.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert ok.headers["access-control-allow-origin"] == "*"
    assert ok.headers["cache-control"] == IMMUTABLE
    assert (traversal.status, traversal.body) == (400, b'{"message":"invalid path"}')


async def test_storage_outage_is_502(make_world: WorldFactory) -> None:
    """The source bucket behind a closed port: a real connection failure, not a 404."""
    async with make_world(unreachable={"source"}) as world:
        original = await world.client.get(world.original_path("uploads/a.png"))
        image = await world.client.get(world.img_path("w64", "uploads/a.png", "webp"))
        ready = await world.client.get("/readyz")
    assert (original.status_code, original.json()) == (502, {"message": "storage unavailable"})
    assert (image.status_code, image.json()) == (502, {"message": "source storage unavailable"})
    assert (ready.status_code, ready.text) == (503, "not ready: source storage")


# --- /api/key: I15–I18 --------------------------------------------------------------------------


async def test_i15_to_i18_key_tokens(world: World) -> None:
    content_key, _ = await world.key_service.content_key_for("correct-hash")
    now = int(time.time())
    url = "/api/key/correct-hash"

    valid = await world.client.get(url, headers=bearer(world.key_token("correct-hash")))
    no_token = await world.client.get(url)
    invalid = await world.client.get(url, headers=bearer("invalid.token"))
    expired_token = mint_key_token(KEY_TOKEN_SECRET, "correct-hash", now - 3600)
    expired = await world.client.get(url, headers=bearer(expired_token))
    mismatch = await world.client.get(url, headers=bearer(world.key_token("wrong-hash")))

    # The key was wrapped into PostgreSQL and unwrapped again on the way out.
    assert (valid.status_code, valid.content) == (200, content_key.key)
    assert valid.headers["cache-control"] == "no-store"
    assert [(r.status_code, r.text) for r in (no_token, invalid, expired, mismatch)] == [
        (401, "Unauthorized"),  # I15
        (403, "Forbidden"),  # I16
        (403, "Forbidden"),  # I17
        (403, "Forbidden"),  # I18
    ]
    assert {r.headers["content-type"] for r in (no_token, invalid, expired, mismatch)} == {PLAIN}


# --- health: I19, readiness ---------------------------------------------------------------------


async def test_i19_health_endpoints(world: World) -> None:
    await check_health_endpoints(world)


async def test_readiness_names_an_unreachable_redis_and_jobs_still_land(
    make_world: WorldFactory,
) -> None:
    async with make_world(unreachable={"queue"}) as world:
        ready = await world.client.get("/readyz")
        # The rate limiter fails open and the job row is kept for the reconciler.
        created = await world.create_job(THUMBNAIL)
        row = await world.jobs.get(created.json()["job_id"])
    assert (ready.status_code, ready.text, ready.headers["content-type"]) == (
        503,
        "not ready: queue",
        PLAIN,
    )
    assert created.status_code == 202
    assert (row.hash, row.status.value) == (H, "queued")


# --- jobs: I20–I25 ------------------------------------------------------------------------------


async def test_i20_i25_api_key_is_required(world: World) -> None:
    create = await world.client.post("/api/jobs", json=THUMBNAIL)
    delete = await world.client.delete(f"/api/media/{H}")
    assert (create.status_code, create.json()) == (401, {"message": "missing API key"})
    assert (delete.status_code, delete.json()) == (401, {"message": "missing API key"})


async def test_i21_i22_job_row_in_postgres_and_task_in_redis(world: World) -> None:
    created = await world.create_job(THUMBNAIL)

    assert created.status_code == 202
    body = created.json()
    assert (body["hash"], body["status"]) == (H, "queued")
    job_id = body["job_id"]
    assert job_id
    assert await world.queue.contains(job_id)
    row = await world.jobs.get(job_id)
    assert (row.type.value, row.hash, row.status.value) == ("image:thumbnail", H, "queued")
    fetched = await world.client.get(f"/api/jobs/{job_id}", headers=API)
    assert fetched.status_code == 200
    assert (fetched.json()["job_id"], fetched.json()["hash"]) == (job_id, H)
    # An identical request finds the active row instead of queueing a second task.
    duplicate = await world.create_job(THUMBNAIL)
    assert (duplicate.status_code, duplicate.json()["job_id"]) == (200, job_id)


async def test_i23_retry_failed_video_full_creates_stage_jobs(world: World) -> None:
    await world.put_source(VIDEO_SOURCE, b"v" * 10, "video/mp4")
    request = {
        "type": "video:full",
        "hash": H,
        "source": VIDEO_SOURCE,
        "options": {
            "cover": {"timestamp_sec": 2},
            "preview": {"format": "gif"},
            "transcode": {"encrypt": True},
        },
    }
    job_id = (await world.create_job(request)).json()["job_id"]
    await world.jobs.mark_processing(job_id)
    await world.jobs.fail(
        job_id,
        "cover and preview failed",
        failed_full_result(
            RetryStrategy.RETRY_TASKS, JobType.COVER, JobType.PREVIEW, JobType.TRANSCODE,
            stages=(FullStage.COVER, FullStage.PREVIEW, FullStage.TRANSCODE),
        ),
    )  # fmt: skip

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
        row = await world.jobs.get(job["job_id"])
        assert (row.retry_of_job_id, row.status.value) == (job_id, "queued")
        assert await world.queue.contains(job["job_id"])
    retries = [job for job in await world.jobs.list_by_hash(H) if job.retry_of_job_id == job_id]
    assert sorted(job.id for job in retries) == sorted(job["job_id"] for job in body["jobs"])


@pytest.mark.parametrize("job_type", ["video:transcode", "video:full"])
async def test_an_image_sent_as_a_video_is_refused_at_submission(
    world: World, job_type: str
) -> None:
    """Only the object's first bytes are read from S3 (its type and name say video)."""
    photo = pyvips.Image.black(64, 48).new_from_image([200, 30, 90]).cast("uchar")
    await world.put_source(VIDEO_SOURCE, bytes(photo.write_to_buffer(".jpg")), "video/mp4")

    response = await world.create_job({"type": job_type, "hash": H, "source": VIDEO_SOURCE})

    assert (response.status_code, response.json()) == (
        400, {"message": "source is not a video (image/jpeg)"},
    )  # fmt: skip
    assert await world.jobs.list_by_hash(H) == []
    assert world.readers.open == 0  # the ranged read was closed


async def test_i24_delete_media_twice(world: World) -> None:
    job_id = (await world.create_job(THUMBNAIL)).json()["job_id"]
    await world.put_media(f"images/ab/{H}/thumb.webp", b"x", "image/webp")
    assert await world.queue.contains(job_id)

    first = await world.client.delete(f"/api/media/{H}", headers=API)
    second = await world.client.delete(f"/api/media/{H}", headers=API)

    assert (first.status_code, first.content, second.status_code) == (204, b"", 204)
    assert [key async for key in world.media.list(f"images/ab/{H}/")] == []
    assert await world.jobs.list_by_hash(H) == []
    assert not await world.queue.contains(job_id)
    assert (await world.client.get(f"/api/jobs/{job_id}", headers=API)).status_code == 404


async def test_31st_jobs_request_is_429_with_redis(world: World) -> None:
    # The window is epoch-aligned (60 s): start in a fresh one rather than straddle two,
    # leaving the 31 requests time enough on a busy machine.
    left = 60 - time.time() % 60
    if left < scaled(5.0):
        await asyncio.sleep(left + 0.1)
    statuses = [
        (await world.create_job({**THUMBNAIL, "hash": f"h{n}"})).status_code for n in range(30)
    ]
    limited = await world.create_job({**THUMBNAIL, "hash": "h30"})
    assert statuses == [202] * 30
    assert (limited.status_code, limited.text) == (429, "Too Many Requests")
    assert limited.headers["content-type"] == PLAIN
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert await world.jobs.list_by_hash("h30") == []


# --- metrics: I27 -------------------------------------------------------------------------------


async def test_i27_metrics_endpoint_exposes_prometheus_metrics(world: World) -> None:
    await world.put_source("a.png", png(2, 2))
    await world.client.get("/healthz")
    assert (await world.client.get(world.img_path("w8", "a.png", "webp"))).status_code == 200
    assert (await world.create_job(THUMBNAIL)).status_code == 202

    response = await world.client.get("/metrics")

    assert response.status_code == 200
    assert_i27_metrics(response.text)
    # The queue gauge was read from Redis: the one task is pending.
    assert 'vylux_queue_tasks{queue="critical",state="pending"} 1.0' in response.text
    # The source was read from S3 through the instrumented store (labels sort by name).
    assert 'driver="s3",operation="get",result="ok",role="source"' in response.text
