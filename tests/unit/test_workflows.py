"""The five workflows on in-memory stores, the fake toolchain and real scratch dirs."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.support.objects import object_exists
from tests.support.queue import dequeue_one
from vylux_adapters.memory import (
    FakeImageProcessor,
    FakeMediaToolchain,
    ManualClock,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectStore,
    MemoryTaskQueue,
    MemoryWebhookOutbox,
    fake_image,
)
from vylux_adapters.scratch import LocalScratchSpace
from vylux_adapters.scratch.local_scratch import STAGING
from vylux_core.errors import (
    ObjectNotFound,
    Step,
    StorageUnavailable,
    UnsupportedMedia,
    WorkflowFailed,
)
from vylux_core.jobs.job import Job, JobStatus, JobType, NewJob
from vylux_core.jobs.options import EffectivePreview
from vylux_core.jobs.results import unstructure_results
from vylux_core.ports.media_toolchain import MediaProbe
from vylux_core.security.key_ring import KeyEncryptionKey, KeyRing
from vylux_core.services import KeyService, task_for_job
from vylux_core.worker import AttemptOutcome, JobHandler, JobRunner, ProgressReporter, is_permanent
from vylux_core.workflows import build_workflows

H = "abcdef1234567890"
PROBE = MediaProbe(
    width=1280, height=720, rotation=0, duration_seconds=13.0, frame_rate=25.0, has_audio=True
)


class CountingEntropy:
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def token_bytes(self, n: int) -> bytes:
        return bytes((next(self._counter) + i) % 256 for i in range(n))


class World:
    def __init__(self, scratch_root: Path, *, failing: frozenset[str] = frozenset(),
                 probe: MediaProbe = PROBE, toolchain: FakeMediaToolchain | None = None,
                 media: MemoryObjectStore | None = None,
                 ) -> None:  # fmt: skip
        self.clock = ManualClock()
        self.source = MemoryObjectStore()
        self.media = media or MemoryObjectStore()
        self.outbox = MemoryWebhookOutbox()
        self.jobs = MemoryJobStore(clock=self.clock, outbox=self.outbox)
        self.scratch_root = scratch_root
        ring = KeyRing(
            keks=[KeyEncryptionKey(version="v1", key=b"k" * 32)], current_version="v1",
            entropy=CountingEntropy(),
        )  # fmt: skip
        self.keys = MemoryKeyStore(clock=self.clock)
        key_service = KeyService(
            keys=self.keys, ring=ring, token_secret="t" * 32,
            base_url="https://media.example.com", clock=self.clock,
        )  # fmt: skip
        self.toolchain = toolchain or FakeMediaToolchain(probe=probe, failing_steps=failing)
        self.handlers: Mapping[JobType, JobHandler] = build_workflows(
            source=self.source, media=self.media, images=FakeImageProcessor(),
            toolchain=self.toolchain, scratch=LocalScratchSpace(root=scratch_root, margin_bytes=0),
            keys=key_service, max_image_source_bytes=1 << 20,
        )  # fmt: skip

    async def run(self, job_type: JobType, options: dict[str, Any] | None = None) -> Any:
        """The job's results as JSON: what its row and its webhook carry."""
        created = await self.jobs.create(
            NewJob(id=f"job-{job_type.value}", type=job_type, hash=H, source="uploads/in",
                   options=options or {}, request_fingerprint=f"fp-{job_type.value}")
        )  # fmt: skip
        job: Job = await self.jobs.mark_processing(created.job.id)
        progress = ProgressReporter(jobs=self.jobs, job_id=job.id, clock=self.clock)
        return unstructure_results(await self.handlers[job_type](job, progress))

    async def keys_under(self, prefix: str) -> list[str]:
        return [key async for key in self.media.list(prefix)]


@pytest.fixture
async def world(tmp_path: Path) -> World:
    created = World(tmp_path / "scratch")
    await created.source.put_bytes("uploads/in", fake_image(640, 480), content_type="image/png")
    return created


async def test_thumbnail_defaults_to_one_300px_webp(world: World) -> None:
    results = await world.run(JobType.THUMBNAIL)

    key = f"images/ab/{H}/thumb.webp"
    stored = await world.media.stat(key)
    assert results == [{"variant": "thumb", "key": key, "format": "webp", "size": stored.size}]
    assert stored.content_type == "image/webp"


async def test_thumbnail_variants_and_progress(world: World) -> None:
    outputs = [
        {"variant": "small", "width": 64, "format": "jpeg"},
        {"variant": "wide", "width": 320, "height": 100, "format": "png"},
        {"variant": "tall", "height": 50},
    ]

    results = await world.run(JobType.THUMBNAIL, {"outputs": outputs})

    assert [(r["variant"], r["format"]) for r in results] == [
        ("small", "jpg"), ("wide", "png"), ("tall", "webp")
    ]  # fmt: skip
    wide = await world.media.read_bytes(f"images/ab/{H}/wide.png", max_bytes=1000)
    assert wide.startswith(fake_image(320, 100))
    assert (await world.jobs.get("job-image:thumbnail")).progress == 100


async def test_missing_image_source_is_a_permanent_failure(world: World) -> None:
    await world.source.delete_many(["uploads/in"])

    with pytest.raises(ObjectNotFound, match=r"^fetch source: ") as caught:
        await world.run(JobType.THUMBNAIL)

    assert is_permanent(caught.value)


async def test_cover_result_object_and_clean_scratch(world: World) -> None:
    results = await world.run(JobType.COVER, {"timestamp_sec": 2.5})

    key = f"videos/ab/{H}/cover.jpg"
    assert results == {"key": key, "format": "jpg", "size": (await world.media.stat(key)).size}
    assert (await world.media.read_bytes(key, max_bytes=100)).endswith(b"@2.50")
    assert (await world.jobs.get("job-video:cover")).progress == 70
    # Task directories are made and deleted in STAGING, which stays (empty).
    assert [p.name for p in world.scratch_root.rglob("*")] == [STAGING]


@pytest.mark.parametrize(("fmt", "mime"), [("webp", "image/webp"), ("gif", "image/gif")])
async def test_preview_formats(world: World, fmt: str, mime: str) -> None:
    results = await world.run(JobType.PREVIEW, {"format": fmt, "width": 320})

    key = f"videos/ab/{H}/preview.{fmt}"
    assert (results["key"], results["format"]) == (key, fmt)
    assert (await world.media.stat(key)).content_type == mime


async def test_transcode_results_and_upload_order(world: World) -> None:
    results = await world.run(JobType.TRANSCODE)

    prefix = f"videos/ab/{H}/"
    streaming = results["streaming"]
    assert streaming == {
        "protocol": "hls", "container": "cmaf", "encrypted": False,
        "master_playlist": prefix + "master.m3u8", "dash_manifest": prefix + "manifest.mpd",
        "default_audio_track_id": "und_aac_2ch",
    }  # fmt: skip
    assert [t["id"] for t in results["video_tracks"]] == [
        "r720_av1", "r480_av1", "r360_av1", "r240_av1",
        "r720_h264", "r480_h264", "r360_h264", "r240_h264",
    ]  # fmt: skip
    assert results["video_tracks"][0]["audio_track_ids"] == ["und_aac_2ch"]
    assert results["audio_tracks"][0]["segment_count"] == 3  # 13 s in 6 s segments
    assert "encryption" not in results
    uploaded = results["uploaded_keys"]
    first_playlist = min(i for i, k in enumerate(uploaded) if k.endswith(".m3u8"))
    assert all(not k.endswith(".m3u8") for k in uploaded[:first_playlist])
    # The DASH manifest goes up after every segment it references, before the master.
    assert uploaded.index(prefix + "manifest.mpd") > first_playlist
    assert uploaded[-1] == prefix + "master.m3u8"
    assert sorted(uploaded) == await world.keys_under(prefix)
    assert (await world.jobs.get("job-video:transcode")).progress == 95


@pytest.mark.parametrize("job_type", [JobType.TRANSCODE, JobType.FULL])
async def test_downloads_are_uploaded_under_the_video_prefix(
    world: World, job_type: JobType
) -> None:
    options: dict[str, Any] = {"downloads": ["audio", "highest"]}
    results = await world.run(
        job_type, {"transcode": options} if job_type is JobType.FULL else options
    )

    transcoded = results["artifacts"]["transcode"] if job_type is JobType.FULL else results
    prefix = f"videos/ab/{H}/downloads/"
    assert [(d["kind"], d["key"], d["format"]) for d in transcoded["downloads"]] == [
        ("highest", prefix + "highest.mp4", "mp4"),
        ("audio", prefix + "audio.m4a", "m4a"),
    ]
    for download in transcoded["downloads"]:
        info = await world.media.stat(download["key"])
        assert info.size == download["size"] > 0
    assert (await world.media.stat(prefix + "audio.m4a")).content_type == "audio/mp4"
    assert not any("downloads/" in key for key in transcoded["uploaded_keys"])


async def test_transcode_storyboard_uploads_sprite_vtt_and_json(world: World) -> None:
    results = await world.run(JobType.TRANSCODE, {"storyboard": True})

    prefix = f"videos/ab/{H}/"
    assert results["storyboard"] == {
        "sprite": prefix + "storyboard.jpg", "vtt": prefix + "storyboard.vtt",
        "json": prefix + "storyboard.json", "tiles": 13, "interval_ms": 1000,
        "tile_width": 160, "tile_height": 90,
    }  # fmt: skip
    vtt = await world.media.read_bytes(prefix + "storyboard.vtt", max_bytes=1 << 20)
    assert vtt.startswith(b"WEBVTT\n")
    assert vtt.count(b"#xywh=") == 13
    assert (await world.media.stat(prefix + "storyboard.vtt")).content_type.startswith("text/vtt")
    assert (await world.media.stat(prefix + "storyboard.json")).content_type == "application/json"
    assert (await world.media.stat(prefix + "storyboard.jpg")).content_type == "image/jpeg"


async def test_a_failed_storyboard_fails_the_transcode_with_its_step(tmp_path: Path) -> None:
    world = World(tmp_path, failing=frozenset({"storyboard"}))
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(Exception, match=r"^generate storyboard: storyboard failed"):
        await world.run(JobType.TRANSCODE, {"storyboard": True})


async def test_no_downloads_unless_asked(world: World) -> None:
    results = await world.run(JobType.TRANSCODE)

    assert "downloads" not in results
    assert "storyboard" not in results
    assert await world.keys_under(f"videos/ab/{H}/downloads/") == []
    assert not await object_exists(world.media, f"videos/ab/{H}/storyboard.vtt")


async def test_audio_download_needs_audio(tmp_path: Path) -> None:
    silent = attrs.evolve(PROBE, has_audio=False)
    world = World(tmp_path, probe=silent)
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    results = await world.run(JobType.TRANSCODE, {"downloads": ["highest", "audio"]})

    assert [d["kind"] for d in results["downloads"]] == ["highest"]


async def test_encrypted_transcode_reuses_the_key_of_an_earlier_run(world: World) -> None:
    first = await world.run(JobType.TRANSCODE, {"encrypt": True})
    stored = await world.keys.get(H)
    rerun = unstructure_results(
        await world.handlers[JobType.TRANSCODE](
            await world.jobs.get("job-video:transcode"),
            ProgressReporter(jobs=world.jobs, job_id="job-video:transcode", clock=world.clock),
        )
    )

    assert first["encryption"] == {
        "scheme": "cbcs", "kid": stored.kid if stored else None,
        "key_endpoint": f"https://media.example.com/api/key/{H}",
    }  # fmt: skip
    assert rerun["encryption"] == first["encryption"]
    assert first["streaming"]["encrypted"] is True


@pytest.mark.parametrize(
    ("job_type", "options", "want_top"),
    [
        pytest.param(JobType.TRANSCODE, {}, "r1080_av1", id="transcode-default-1080p"),
        pytest.param(
            JobType.TRANSCODE, {"max_resolution": "2160p"}, "r2160_av1", id="transcode-2160p"
        ),
        pytest.param(
            JobType.FULL, {"transcode": {"max_resolution": "1440p"}}, "r1440_av1", id="full-1440p"
        ),
    ],
)
async def test_max_resolution_reaches_the_ladder(
    tmp_path: Path, job_type: JobType, options: dict[str, Any], want_top: str
) -> None:
    uhd = MediaProbe(
        width=3840, height=2160, rotation=0, duration_seconds=4.0, frame_rate=30.0,
        has_audio=False,
    )  # fmt: skip
    world = World(tmp_path, probe=uhd)
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    results = await world.run(job_type, options)

    transcoded = results["artifacts"]["transcode"] if job_type is JobType.FULL else results
    assert transcoded["video_tracks"][0]["id"] == want_top


async def test_portrait_source_without_audio(tmp_path: Path) -> None:
    portrait = MediaProbe(
        width=1080, height=1920, rotation=90, duration_seconds=4.0, frame_rate=30.0,
        has_audio=False,
    )  # fmt: skip
    world = World(tmp_path, probe=portrait)
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    results = await world.run(JobType.TRANSCODE)

    top = results["video_tracks"][0]
    assert (top["id"], top["width"], top["height"]) == ("r1080_av1", 1080, 1920)
    assert "audio_track_ids" not in top
    assert "audio_tracks" not in results
    assert "default_audio_track_id" not in results["streaming"]


async def test_full_success(world: World) -> None:
    results = await world.run(JobType.FULL, {"preview": {"format": "gif"}})

    assert {name: stage["status"] for name, stage in results["stages"].items()} == {
        "source": "ready", "cover": "ready", "preview": "ready", "transcode": "ready",
        "storyboard": "ready",
    }  # fmt: skip
    assert list(results["artifacts"]) == ["cover", "preview", "transcode", "storyboard"]
    assert results["artifacts"]["preview"]["key"] == f"videos/ab/{H}/preview.gif"
    prefix = f"videos/ab/{H}/"
    assert results["artifacts"]["storyboard"] == {
        "sprite": prefix + "storyboard.jpg", "vtt": prefix + "storyboard.vtt",
        "json": prefix + "storyboard.json", "tiles": 13, "interval_ms": 1000,
        "tile_width": 160, "tile_height": 90,
    }  # fmt: skip
    assert await object_exists(world.media, prefix + "storyboard.vtt")
    assert results["retry_plan"] == {"allowed": False, "strategy": "none"}
    assert (await world.jobs.get("job-video:full")).progress == 95


async def test_full_without_its_storyboard_stage(world: World) -> None:
    results = await world.run(JobType.FULL, {"storyboard": False})

    assert list(results["stages"]) == ["source", "cover", "preview", "transcode"]
    assert list(results["artifacts"]) == ["cover", "preview", "transcode"]
    assert not await object_exists(world.media, f"videos/ab/{H}/storyboard.jpg")


async def test_storyboard_job_is_the_stage_on_its_own(world: World) -> None:
    alone = await world.run(JobType.STORYBOARD)
    full = await world.run(JobType.FULL)

    assert alone == full["artifacts"]["storyboard"]
    assert (await world.jobs.get("job-video:storyboard")).progress == 70
    assert sorted(await world.keys_under(f"videos/ab/{H}/storyboard")) == [
        f"videos/ab/{H}/storyboard.{ext}" for ext in ("jpg", "json", "vtt")
    ]


@pytest.mark.parametrize(
    ("failing", "job_types", "statuses", "permanent"),
    [
        pytest.param(
            frozenset({"cover"}), ["video:cover", "video:transcode"],
            {"source": "ready", "cover": "failed", "preview": "ready", "transcode": "skipped",
             "storyboard": "ready"},
            False, id="cover-fails",
        ),
        pytest.param(
            frozenset({"cover", "preview"}), ["video:cover", "video:preview", "video:transcode"],
            {"source": "ready", "cover": "failed", "preview": "failed", "transcode": "skipped",
             "storyboard": "ready"},
            False, id="both-image-stages-fail",
        ),
        pytest.param(
            frozenset({"package"}), ["video:transcode"],
            {"source": "ready", "cover": "ready", "preview": "ready", "transcode": "failed",
             "storyboard": "ready"},
            False, id="transcode-fails",
        ),
        pytest.param(
            frozenset({"storyboard"}), ["video:storyboard"],
            {"source": "ready", "cover": "ready", "preview": "ready", "transcode": "ready",
             "storyboard": "failed"},
            False, id="storyboard-fails-alone",
        ),
        pytest.param(
            frozenset({"storyboard", "preview"}),
            ["video:preview", "video:transcode", "video:storyboard"],
            {"source": "ready", "cover": "ready", "preview": "failed", "transcode": "skipped",
             "storyboard": "failed"},
            False, id="storyboard-and-preview-fail",
        ),
    ],
)  # fmt: skip
async def test_full_failures_carry_the_retry_plan(
    tmp_path: Path,
    failing: frozenset[str],
    job_types: list[str],
    statuses: dict[str, str],
    permanent: bool,
) -> None:
    world = World(tmp_path, failing=failing)
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(WorkflowFailed) as caught:
        await world.run(JobType.FULL)

    results: Any = unstructure_results(caught.value.results)
    assert results["retry_plan"]["job_types"] == job_types
    assert {name: stage["status"] for name, stage in results["stages"].items()} == statuses
    assert caught.value.permanent is permanent
    assert str(caught.value).startswith("video:full failed: [")
    # What succeeded is kept, the storyboard's failure does not hide the transcode.
    assert ("transcode" in results["artifacts"]) is (statuses["transcode"] == "ready")


async def test_a_failed_storyboard_stage_plans_just_itself(tmp_path: Path) -> None:
    world = World(tmp_path, failing=frozenset({"storyboard"}))
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(WorkflowFailed) as caught:
        await world.run(JobType.FULL)

    results: Any = unstructure_results(caught.value.results)
    assert str(caught.value) == "video:full failed: [storyboard]"
    assert results["stages"]["storyboard"] == {
        "status": "failed", "error_code": "generate_failed",
        "error": "generate storyboard: storyboard failed for source", "retryable": True,
    }  # fmt: skip
    assert results["retry_plan"] == {
        "allowed": True, "strategy": "retry_tasks", "job_types": ["video:storyboard"],
        "stages": ["storyboard"], "reason": "storyboard stage failed",
    }  # fmt: skip


class _RefusingUploads(MemoryObjectStore):
    """A media store that is down for writes."""

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        raise StorageUnavailable("media store down")

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        raise StorageUnavailable("media store down")


async def test_full_tells_upload_failures_from_the_step_not_the_message(tmp_path: Path) -> None:
    world = World(tmp_path, media=_RefusingUploads())
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(WorkflowFailed) as caught:
        await world.run(JobType.FULL)

    stages = unstructure_results(caught.value.results)["stages"]
    assert (stages["cover"]["error_code"], stages["preview"]["error_code"]) == (
        "upload_failed",
        "upload_failed",
    )
    # The stage's own prefix on the cause, not the step's a second time.
    assert stages["cover"]["error"] == "upload cover: media store down"
    assert stages["storyboard"]["error"] == "upload storyboard: media store down"
    assert stages["storyboard"]["error_code"] == "upload_failed"


async def test_full_with_a_missing_source_is_a_permanent_retry_job_failure(
    world: World,
) -> None:
    await world.source.delete_many(["uploads/in"])

    with pytest.raises(WorkflowFailed) as caught:
        await world.run(JobType.FULL)

    results: Any = unstructure_results(caught.value.results)
    assert results["retry_plan"] == {
        "allowed": True, "strategy": "retry_job", "job_types": ["video:full"],
        "stages": ["source"], "reason": "source download failed",
    }  # fmt: skip
    assert results["stages"]["source"]["error_code"] == "download_failed"
    assert results["stages"]["storyboard"] == {
        "status": "skipped", "reason": "blocked_by_source_failure"
    }  # fmt: skip
    assert caught.value.permanent is True


# --- sources that can never become video -------------------------------------------------

AV1 = "unsupported codec: av1 (no decoder)"


@pytest.mark.parametrize(
    ("job_type", "step"),
    [
        (JobType.COVER, "extract cover"),
        (JobType.PREVIEW, "generate preview"),
        (JobType.STORYBOARD, "generate storyboard"),
        (JobType.TRANSCODE, "transcode"),
    ],
)
async def test_unsupported_media_is_a_permanent_failure_of_every_video_job(
    tmp_path: Path, job_type: JobType, step: str
) -> None:
    world = World(tmp_path, toolchain=FakeMediaToolchain(probe=PROBE, unsupported=AV1))
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(UnsupportedMedia) as caught:
        await world.run(job_type)

    assert str(caught.value) == f"{step}: {AV1}"
    assert is_permanent(caught.value)
    assert await world.keys_under("videos/") == []


async def test_unsupported_media_fails_video_full_for_good_with_its_stage_results(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, toolchain=FakeMediaToolchain(probe=PROBE, unsupported=AV1))
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(WorkflowFailed) as caught:
        await world.run(JobType.FULL)

    results: Any = unstructure_results(caught.value.results)
    assert caught.value.permanent is True
    assert str(caught.value) == "video:full failed: [cover preview storyboard]"
    assert results["stages"] == {
        "source": {"status": "ready"},
        "cover": {"status": "failed", "error_code": "extract_failed",
                  "error": f"extract cover: {AV1}", "retryable": True},
        "preview": {"status": "failed", "error_code": "generate_failed",
                    "error": f"generate preview: {AV1}", "retryable": True},
        "transcode": {"status": "skipped", "reason": "blocked_by_failed_dependencies"},
        "storyboard": {"status": "failed", "error_code": "generate_failed",
                       "error": f"generate storyboard: {AV1}", "retryable": True},
    }  # fmt: skip
    assert results["retry_plan"]["strategy"] == "retry_tasks"


class PreviewRefusingToolchain(FakeMediaToolchain):
    """Cover fails as a crashing tool would (transient), preview refuses the source."""

    async def render_preview(
        self, source: Path, preview: EffectivePreview, destination: Path
    ) -> None:
        raise UnsupportedMedia(AV1)


async def test_video_full_is_permanent_when_any_image_stage_is(tmp_path: Path) -> None:
    toolchain = PreviewRefusingToolchain(probe=PROBE, failing_steps=frozenset({"cover"}))
    world = World(tmp_path, toolchain=toolchain)
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(WorkflowFailed) as caught:
        await world.run(JobType.FULL)

    assert caught.value.permanent is True


@pytest.mark.parametrize("job_type", [JobType.TRANSCODE, JobType.FULL])
async def test_runner_fails_an_unsupported_source_at_the_first_attempt(
    tmp_path: Path, job_type: JobType
) -> None:
    """No retry is scheduled: the job is failed by its first attempt, with the
    toolchain's message and one failure webhook."""
    world = World(tmp_path, toolchain=FakeMediaToolchain(probe=PROBE, unsupported=AV1))
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")
    queue = MemoryTaskQueue(clock=world.clock, rng=random.Random(1))
    created = await world.jobs.create(
        NewJob(id="job-1", type=job_type, hash=H, source="uploads/in", options={},
               request_fingerprint="fp-1", callback_url="https://hooks.example.com/v")
    )  # fmt: skip
    await queue.enqueue(task_for_job(created.job))
    runner = JobRunner(jobs=world.jobs, consumer=queue, handlers=world.handlers, clock=world.clock)
    lease = await dequeue_one(queue, {"default": 1}, "w1", 60)
    assert lease is not None

    outcome = await runner.run(lease)

    job = await world.jobs.get("job-1")
    [archived] = await queue.list_archived("default", 10)
    webhooks = await world.outbox.due(world.clock.now(), 10)
    want = f"transcode: {AV1}" if job_type is JobType.TRANSCODE else "video:full failed: ["
    assert (outcome, job.status) == (AttemptOutcome.FAILED, JobStatus.FAILED)
    assert (job.error or "").startswith(want)
    assert (archived.task.id, archived.retried) == ("job-1", 1)  # failed attempts: one
    assert await dequeue_one(queue, {"default": 1}, "w1", 60) is None
    world.clock.advance(3600)  # past any back-off: still nothing to run again
    assert await dequeue_one(queue, {"default": 1}, "w1", 60) is None
    assert [json.loads(w.message.payload)["status"] for w in webhooks] == ["failed"]


class _RefusingDownloads(MemoryObjectStore):
    """A media store that takes everything but the MP4 downloads."""

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        if "/downloads/" in key:
            raise StorageUnavailable("media store down")
        await super().upload_file(key, source, content_type=content_type)


async def test_a_failed_downloads_upload_is_the_transcode_stages_upload(tmp_path: Path) -> None:
    world = World(tmp_path, media=_RefusingDownloads())
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(WorkflowFailed) as caught:
        await world.run(JobType.FULL, {"transcode": {"downloads": ["highest"]}})

    assert str(caught.value) == "video:full failed: [transcode]"
    transcode = unstructure_results(caught.value.results)["stages"]["transcode"]
    assert transcode == {
        "status": "failed", "error_code": "upload_failed",
        "error": "upload HLS: media store down", "retryable": True,
    }  # fmt: skip


async def test_transcode_names_the_downloads_step(tmp_path: Path) -> None:
    world = World(tmp_path, media=_RefusingDownloads())
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(StorageUnavailable) as caught:
        await world.run(JobType.TRANSCODE, {"downloads": ["highest"]})

    assert str(caught.value) == "upload downloads: media store down"
    assert caught.value.step is not None
    assert (caught.value.step.step, caught.value.step.upload) == (Step.UPLOAD_DOWNLOADS, True)


class _RefusingThumbnails(MemoryObjectStore):
    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        raise StorageUnavailable("media store down")


async def test_a_thumbnail_step_names_its_variant(tmp_path: Path) -> None:
    world = World(tmp_path, media=_RefusingThumbnails())
    await world.source.put_bytes("uploads/in", fake_image(640, 480), content_type="image/png")

    with pytest.raises(StorageUnavailable) as caught:
        await world.run(JobType.THUMBNAIL)

    failed = caught.value.step
    assert failed is not None
    assert (failed.step, failed.name, failed.upload) == (
        Step.UPLOAD_VARIANT,
        f"upload {failed.subject}",
        True,
    )
    assert str(caught.value) == f"upload {failed.subject}: media store down"
