"""Every job type end to end on the production wiring: PostgreSQL, Redis, SeaweedFS S3.

One runtime per module (``open_runtime`` → ``build_server`` + ``build_worker``) with the
worker running in a task. Every job is submitted through ``POST /api/jobs`` at the start
so the encodes overlap; each test then waits for its own jobs and checks the results
JSON against worker spec §5, the objects under the spec's keys (§6.2), and the media
itself: the HLS trees are copied out of the bucket and probed and decoded with FFmpeg
(AV1 with dav1d, which the bundled ffmpeg has).

Failure injection (the ``video:full`` retry test): no job option makes a stage fail
deterministically here (the toolchain clamps late cover timestamps and preview starts,
and the API refuses out-of-range options), so ``build_worker`` is handed a subclass of
``FfmpegMediaToolchain`` whose first preview at ``FAULT_FPS`` raises a permanent error.
Permanent, so the job is failed at once instead of after the queue's automatic retries
(10 s, 20 s, 40 s). Everything else is the production wiring.

Outage injection: the first poll of the webhook outbox (PostgreSQL) and of the expired
leases (Redis) fails as a connection blip would; the last tests check that the worker's
background loops outlived it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest
import pyvips  # type: ignore[import-untyped]
from attrs import define, field, frozen
from starlette.types import ASGIApp

from tests.support.databases import emptied_engine
from tests.support.deadlines import scaled
from tests.support.media import (
    ToolFailed,
    bundled_binaries,
    concatenate,
    dav1d_ffmpeg,
    ffprobe_streams,
    frame_hashes,
    make_clip,
    make_still,
    run_tool,
    segments_in_order,
)
from tests.support.redis import claimed_redis_db
from tests.support.seaweedfs import S3Server, fresh_bucket
from tests.support.services import service_unavailable
from tests.support.storyboard import (
    TILE_MAD_THRESHOLD,
    coverage_problems,
    parse_cues,
    tile_differences,
)
from tests.support.webhook_receiver import WebhookReceiver
from vylux_adapters.media import FfmpegMediaToolchain, MediaBinaries
from vylux_adapters.worker.runtime import WorkerRuntime
from vylux_cli import bootstrap
from vylux_cli.bootstrap import Runtime, build_server, build_worker, open_runtime
from vylux_cli.config import Config, load_config
from vylux_core.errors import DatabaseUnavailable, QueueUnavailable, UnprocessableImage
from vylux_core.jobs.job import NewJob
from vylux_core.jobs.options import EffectivePreview
from vylux_core.jobs.request import decode_job_request
from vylux_core.security.key_token import mint_key_token
from vylux_core.services import task_for_job

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.s3,
]

# The receiver refuses each job's first deliveries: the deliverer must retry them.
WEBHOOK_FAILURES_PER_JOB = 2

BASE_URL = "http://testserver"
# Generous: on 2 busy cores the slowest job (a 2-rung AV1 + H.264 ladder) takes ~10 s.
JOB_SECONDS = scaled(120.0)
WEBHOOK_SECONDS = scaled(60.0)


@frozen(kw_only=True)
class Clip:
    width: int
    height: int
    seconds: int
    fps: int
    audio: bool

    @property
    def frames(self) -> int:
        return self.seconds * self.fps

    def make(self, ffmpeg: str, path: Path) -> Path:
        return make_clip(
            ffmpeg, path, width=self.width, height=self.height, seconds=self.seconds,
            fps=self.fps, audio=self.audio,
        )  # fmt: skip


# Landscape with audio: 640x360 gives two rungs per codec (one split graph per codec),
# 7 s gives two 6 s segments per track (segment order matters when decrypting).
LANDSCAPE = Clip(width=640, height=360, seconds=7, fps=15, audio=True)
LANDSCAPE_TRACKS = [
    ("r360_av1", 640, 360),
    ("r240_av1", 426, 240),
    ("r360_h264", 640, 360),
    ("r240_h264", 426, 240),
]
# Portrait without audio: inside the smallest (turned, 240x426) box, so one r240 rung at the
# source's own size (docs/differences.md D47).
PORTRAIT = Clip(width=180, height=320, seconds=3, fps=15, audio=False)
PORTRAIT_TRACKS = [("r240_av1", 180, 320), ("r240_h264", 180, 320)]

SOURCES = {"landscape": "uploads/landscape.mp4", "portrait": "uploads/portrait.mp4"}
PHOTO = "uploads/photo.jpg"
# An AV1 upload (screen recorders, Android phones) transcodes like any other source.
AV1_SOURCE = "uploads/av1.mp4"
FAULT_FPS = 7  # a preview at this frame rate fails once (see the module docstring)

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
TRANSCODE_KEYS = {"streaming", "audio_tracks", "video_tracks", "encryption", "uploaded_keys"}
AUDIO_TRACK_KEYS = {
    "id", "role", "language", "codec", "channels", "bitrate", "playlist", "init", "segment_count",
}  # fmt: skip
VIDEO_TRACK_KEYS = {
    "id", "codec", "width", "height", "bitrate", "playlist", "iframe_playlist", "init",
    "segment_count", "audio_track_ids",
}  # fmt: skip
STORYBOARD_FILES = ("storyboard.jpg", "storyboard.vtt", "storyboard.json")


# --- the webhook receiver --------------------------------------------------------------


# --- fault injection ----------------------------------------------------------------


def fault_injecting_toolchain(tripped: set[int]) -> type[FfmpegMediaToolchain]:
    """``FfmpegMediaToolchain`` whose first preview at ``FAULT_FPS`` fails for good.

    ``UnprocessableImage`` counts as permanent, so the job fails without the queue's
    automatic retries; the manual retry's ``video:preview`` then renders normally.
    """

    class FaultInjectingToolchain(FfmpegMediaToolchain):
        async def render_preview(
            self, source: Path, preview: EffectivePreview, destination: Path
        ) -> None:
            if preview.fps == FAULT_FPS and FAULT_FPS not in tripped:
                tripped.add(FAULT_FPS)
                raise UnprocessableImage("injected fault: preview renderer refused the clip")
            await super().render_preview(source, preview, destination)

    return FaultInjectingToolchain


class Blip:
    """Makes the first call of a port method fail as an outage would, then counts calls."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def wrap(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def blipping(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise self.error
            return await method(*args, **kwargs)

        return blipping


# --- the stack -------------------------------------------------------------------------


@frozen
class StoredObject:
    size: int
    content_type: str


@define
class Stack:
    """The running service, plus what the tests need to look at its outputs."""

    config: Config
    runtime: Runtime
    client: httpx.AsyncClient
    receiver: WebhookReceiver
    s3: S3Client
    media_bucket: str
    tools: MediaBinaries
    work: Path
    blips: dict[str, Blip] = field(factory=dict)
    submitted: list[str] = field(factory=list)
    _trees: dict[str, Path] = field(factory=dict)
    _tree_locks: defaultdict[str, asyncio.Lock] = field(factory=lambda: defaultdict(asyncio.Lock))

    async def submit(self, body: Mapping[str, Any]) -> str:
        response = await self.client.post(
            "/api/jobs", json={**body, "callback_url": self.receiver.url}
        )
        assert response.status_code == 202, response.text
        created = response.json()
        assert created == {"job_id": created["job_id"], "hash": body["hash"], "status": "queued"}
        self.submitted.append(created["job_id"])
        return str(created["job_id"])

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def final(self, job_id: str) -> dict[str, Any]:
        """The job once the worker is done with it (completed or failed)."""
        async with asyncio.timeout(JOB_SECONDS):
            while True:
                job = await self.job(job_id)
                if job["status"] in ("completed", "failed"):
                    return job
                await asyncio.sleep(0.2)

    async def results_of(self, job_id: str) -> Any:
        job = await self.final(job_id)
        assert job["status"] == "completed", job.get("error")
        assert job["progress"] == 100
        assert "error" not in job
        return job["results"]

    async def objects(self, prefix: str) -> dict[str, StoredObject]:
        """Every object under ``prefix`` in the media bucket, with its stored type."""
        return await asyncio.to_thread(self._objects, prefix)

    def _objects(self, prefix: str) -> dict[str, StoredObject]:
        found = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.media_bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                head = self.s3.head_object(Bucket=self.media_bucket, Key=item["Key"])
                found[item["Key"]] = StoredObject(item["Size"], head["ContentType"])
        return found

    async def read(self, key: str) -> bytes:
        def get() -> bytes:
            return self.s3.get_object(Bucket=self.media_bucket, Key=key)["Body"].read()

        return await asyncio.to_thread(get)

    async def local_tree(self, media_hash: str) -> Path:
        """A local copy of ``videos/{p}/{hash}/``, downloaded once per module."""
        async with self._tree_locks[media_hash]:
            if media_hash not in self._trees:
                prefix = video_prefix(media_hash)
                root = self.work / "trees" / media_hash
                for key in await self.objects(prefix):
                    target = root / key.removeprefix(prefix)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    await asyncio.to_thread(
                        self.s3.download_file, self.media_bucket, key, str(target)
                    )
                self._trees[media_hash] = root
            return self._trees[media_hash]


def video_prefix(media_hash: str) -> str:
    return f"videos/{media_hash[:2]}/{media_hash}/"


def make_sources(tools: MediaBinaries, directory: Path) -> dict[str, Path]:
    return {
        SOURCES["landscape"]: LANDSCAPE.make(tools.ffmpeg, directory / "landscape.mp4"),
        SOURCES["portrait"]: PORTRAIT.make(tools.ffmpeg, directory / "portrait.mp4"),
        PHOTO: make_still(tools.ffmpeg, directory / "photo.jpg", width=640, height=480),
        AV1_SOURCE: make_av1_clip(tools.ffmpeg, directory / "av1.mp4"),
    }


def make_av1_clip(ffmpeg: str, path: Path) -> Path:
    picture = "testsrc2=size=64x48:rate=10:duration=1"
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", picture]
    run_tool([*argv, "-c:v", "libsvtav1", "-preset", "12", str(path)])
    return path


async def run_worker_and_connect(
    exits: AsyncExitStack, app: ASGIApp, worker: WorkerRuntime, *, name: str, api_key: str
) -> httpx.AsyncClient:
    """Runs ``worker`` until ``exits`` closes and opens an in-process client on ``app``
    that sends ``api_key``."""
    running = asyncio.create_task(worker.run(), name=name)

    async def stop_worker() -> None:
        worker.stop()
        await asyncio.wait_for(running, timeout=60)

    exits.push_async_callback(stop_worker)
    return await exits.enter_async_context(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL,
            headers={"X-API-Key": api_key},
        )
    )  # fmt: skip


def service_env(
    *, database_url: str, redis: str, s3: S3Server, source: str, media: str, scratch: Path
) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "BASE_URL": BASE_URL,
        "VYLUX_SCRATCH_DIR": str(scratch),
        "WORKER_CONCURRENCY": "4",
        "LARGE_WORKER_CONCURRENCY": "1",
        "WORKER_METRICS_PORT": "0",
        "WORKER_SHUTDOWN_TIMEOUT": "30s",
        "ALLOW_PRIVATE_CALLBACKS": "true",  # the receiver listens on 127.0.0.1
    }
    for role, bucket in (("SOURCE", source), ("MEDIA", media)):
        env |= {
            f"{role}_S3_ENDPOINT": s3.endpoint,
            f"{role}_S3_ACCESS_KEY": s3.access_key,
            f"{role}_S3_SECRET_KEY": s3.secret_key,
            f"{role}_S3_REGION": s3.region,
            f"{role}_BUCKET": bucket,
        }
    for name in ("HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET", "KEY_TOKEN_SECRET", "ENCRYPTION_KEY"):
        env[name] = secrets.token_hex(32)
    return env


async def service_backends(
    exits: AsyncExitStack,
    *,
    postgres_url: str,
    s3_server: S3Server,
    sources: Mapping[str, Path],
    receiver: WebhookReceiver,
    scratch: Path,
) -> tuple[dict[str, str], str]:
    """What a whole service runs on until ``exits`` closes: a claimed Redis database,
    emptied tables, fresh source and media buckets with ``sources`` (key -> file)
    uploaded, and ``receiver`` listening. Returns the service's environment on them and
    the media bucket."""
    redis_db_url, _ = await exits.enter_async_context(claimed_redis_db())
    # Rows left by earlier tests of the session would be re-enqueued by the worker's
    # reconciler and run here.
    async with emptied_engine(postgres_url):
        pass
    source_bucket = exits.enter_context(fresh_bucket(s3_server))
    media_bucket = exits.enter_context(fresh_bucket(s3_server))
    for key, path in sources.items():
        await asyncio.to_thread(s3_server.admin.upload_file, str(path), source_bucket, key)
    await receiver.start()
    exits.push_async_callback(receiver.stop)
    env = service_env(
        database_url=postgres_url, redis=redis_db_url, s3=s3_server, source=source_bucket,
        media=media_bucket, scratch=scratch,
    )  # fmt: skip
    return env, media_bucket


@pytest.fixture(scope="module")
async def stack(
    postgres_url: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("worker-e2e")
    tools = bundled_binaries()
    sources = await asyncio.to_thread(make_sources, tools, work)
    async with AsyncExitStack() as exits:
        receiver = WebhookReceiver(failures_per_job=WEBHOOK_FAILURES_PER_JOB)
        env, media_bucket = await service_backends(
            exits, postgres_url=postgres_url, s3_server=s3_server, sources=sources,
            receiver=receiver, scratch=work / "scratch",
        )  # fmt: skip
        config = load_config(env)
        runtime = await exits.enter_async_context(open_runtime(config))
        blips = {
            "outbox": Blip(DatabaseUnavailable("database unavailable: connection reset")),
            "leases": Blip(QueueUnavailable("queue unavailable: connection reset")),
        }
        outages = exits.enter_context(pytest.MonkeyPatch.context())
        # The loops hold these very objects, so patching the instances reaches them.
        outages.setattr(runtime.outbox, "due", blips["outbox"].wrap(runtime.outbox.due))
        outages.setattr(
            runtime.queue, "recover_expired", blips["leases"].wrap(runtime.queue.recover_expired)
        )
        app = await exits.enter_async_context(build_server(runtime))
        # build_worker builds its toolchain on entry: swap the class just for that.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bootstrap, "FfmpegMediaToolchain", fault_injecting_toolchain(set()))
            worker = await exits.enter_async_context(build_worker(runtime))
        client = await run_worker_and_connect(
            exits, app, worker, name="e2e-worker", api_key=config.secrets.api_key
        )
        yield Stack(
            config=config, runtime=runtime, client=client, receiver=receiver,
            s3=s3_server.admin, media_bucket=media_bucket, tools=tools, work=work, blips=blips,
        )  # fmt: skip


@pytest.fixture(scope="module")
async def jobs(stack: Stack) -> dict[str, str]:
    """Every first-round job, submitted together so the worker runs them side by side."""
    landscape, portrait = SOURCES["landscape"], SOURCES["portrait"]
    bodies: dict[str, dict[str, Any]] = {
        "thumbnail": {
            "type": "image:thumbnail", "hash": "e2e-photo", "source": PHOTO,
            "options": {"outputs": [
                {"variant": "small", "width": 160, "height": 120, "format": "webp"},
                {"variant": "card", "width": 200, "height": 100, "format": "jpg"},
            ]},
        },
        "cover": {
            "type": "video:cover", "hash": "e2e-cover", "source": landscape,
            "options": {"timestamp_sec": 1.5},
        },
        "preview": {
            "type": "video:preview", "hash": "e2e-preview", "source": landscape,
            "options": {"start_sec": 1, "duration": 2, "width": 160, "fps": 5, "format": "gif"},
        },
        "clear": {
            "type": "video:transcode", "hash": "e2e-clear", "source": landscape,
            "options": {"downloads": ["highest", "audio"], "storyboard": True},
        },
        "encrypted": {
            "type": "video:transcode", "hash": "e2e-enc", "source": landscape,
            "options": {"encrypt": True},
        },
        # Defaults for every stage: cover at 1 s, a 480 px WebP preview from 2 s.
        "full": {"type": "video:full", "hash": "e2e-full", "source": portrait},
        "failing": {
            "type": "video:full", "hash": "e2e-retry", "source": portrait,
            "options": {"cover": {"timestamp_sec": 0.5}, "preview": {"fps": FAULT_FPS}},
        },
        "av1": {"type": "video:transcode", "hash": "e2e-av1", "source": AV1_SOURCE},
        # video:preview has no preflight: the worker is the first to look at the photo.
        "photo_preview": {"type": "video:preview", "hash": "e2e-photo-preview", "source": PHOTO},
    }  # fmt: skip
    ids = await asyncio.gather(*(stack.submit(body) for body in bodies.values()))
    return dict(zip(bodies, ids, strict=True))


# --- shape checks (worker spec §5) ----------------------------------------------------


def check_image_artifact(
    artifact: Any, key: str, fmt: str, stored: Mapping[str, StoredObject]
) -> None:
    assert artifact == {"key": key, "format": fmt, "size": stored[key].size}
    assert stored[key].size > 0
    assert stored[key].content_type == CONTENT_TYPES["." + key.rsplit(".", 1)[1]]


def check_transcode(
    result: Any,
    media_hash: str,
    *,
    audio: bool,
    encrypted: bool,
    tracks: list[tuple[str, int, int]],
    stored: Mapping[str, StoredObject],
    downloads: bool = False,
) -> None:
    """§5.4: keys present or omitted by the rules, every key under the hash's prefix,
    and every uploaded object really in the bucket with its content type."""
    prefix = video_prefix(media_hash)
    expected_keys = TRANSCODE_KEYS - ({"audio_tracks"} if not audio else set())
    expected_keys -= {"encryption"} if not encrypted else set()
    expected_keys |= {"downloads", "storyboard"} if downloads else set()
    assert set(result) == expected_keys

    streaming = {
        "protocol": "hls", "container": "cmaf", "encrypted": encrypted,
        "master_playlist": prefix + "master.m3u8", "dash_manifest": prefix + "manifest.mpd",
    }  # fmt: skip
    if audio:
        streaming["default_audio_track_id"] = "und_aac_2ch"
    assert result["streaming"] == streaming

    def segments(directory: str) -> int:
        return sum(1 for key in stored if re.fullmatch(re.escape(directory) + r"seg_\d+\.m4s", key))

    if audio:
        [track] = result["audio_tracks"]
        assert set(track) == AUDIO_TRACK_KEYS
        audio_dir = prefix + "audio/und_aac_2ch/"
        assert {k: track[k] for k in ("id", "role", "language", "codec", "channels")} == {
            "id": "und_aac_2ch", "role": "main", "language": "und", "codec": "aac", "channels": 2,
        }  # fmt: skip
        # Vylux reports the packaged track's measured peak bit rate, not the 128000 constant.
        assert isinstance(track["bitrate"], int)
        assert track["bitrate"] > 0
        assert track["playlist"] == audio_dir + "playlist.m3u8"
        assert track["init"] == audio_dir + "init.mp4"
        assert track["segment_count"] == segments(audio_dir) >= 1

    # AV1 rungs, then H.264 rungs, each descending.
    assert [(t["id"], t["width"], t["height"]) for t in result["video_tracks"]] == tracks
    for track in result["video_tracks"]:
        label = track["id"]
        track_dir = f"{prefix}video/{label}/"
        assert set(track) == VIDEO_TRACK_KEYS - (set() if audio else {"audio_track_ids"})
        assert track["codec"] == label.rsplit("_", 1)[1]
        assert isinstance(track["bitrate"], int)
        assert track["bitrate"] > 0
        assert track["playlist"] == track_dir + "playlist.m3u8"
        assert track["iframe_playlist"] == track_dir + "iframes.m3u8"
        assert track["iframe_playlist"] in stored
        assert track["init"] == track_dir + "init.mp4"
        assert track["segment_count"] == segments(track_dir) >= 1
        if audio:
            assert track["audio_track_ids"] == ["und_aac_2ch"]

    if encrypted:
        encryption = result["encryption"]
        assert encryption["scheme"] == "cbcs"
        assert re.fullmatch(r"[0-9a-f]{32}", encryption["kid"])
        assert encryption["key_endpoint"] == f"{BASE_URL}/api/key/{media_hash}"

    uploaded = result["uploaded_keys"]
    hls = {
        key
        for key in stored
        if key.endswith((".m3u8", ".mpd", ".m4s", ".mp4"))
        and not key.startswith(prefix + "downloads/")
    }
    assert sorted(uploaded) == sorted(hls)
    # Master last: a client never finds a master playlist whose tracks are missing.
    assert uploaded[-1] == prefix + "master.m3u8"
    for key in uploaded:
        assert stored[key].content_type == CONTENT_TYPES["." + key.rsplit(".", 1)[1]]


def read_master(tree: Path) -> list[tuple[str, str]]:
    """``(attributes, uri)`` of every variant stream in ``master.m3u8``."""
    lines = (tree / "master.m3u8").read_text().splitlines()
    return [
        (line.removeprefix("#EXT-X-STREAM-INF:"), lines[index + 1])
        for index, line in enumerate(lines)
        if line.startswith("#EXT-X-STREAM-INF:")
    ]


def check_master(tree: Path, tracks: list[tuple[str, int, int]], *, audio: bool) -> None:
    variants = read_master(tree)
    assert sorted(uri for _, uri in variants) == sorted(
        f"video/{label}/playlist.m3u8" for label, _, _ in tracks
    )
    for attributes, uri in variants:
        label = uri.split("/")[1]
        _, width, height = next(t for t in tracks if t[0] == label)
        assert f"RESOLUTION={width}x{height}" in attributes
        assert ('CODECS="av01' if label.endswith("av1") else 'CODECS="avc1') in attributes
        assert ('AUDIO="audio"' in attributes) is audio
    media = [
        line for line in (tree / "master.m3u8").read_text().splitlines() if "TYPE=AUDIO" in line
    ]
    assert len(media) == (1 if audio else 0)
    if audio:
        assert 'URI="audio/und_aac_2ch/playlist.m3u8"' in media[0]
    iframes = [
        line
        for line in (tree / "master.m3u8").read_text().splitlines()
        if line.startswith("#EXT-X-I-FRAME-STREAM-INF:")
    ]
    assert sorted(re.findall(r'URI="([^"]+)"', "\n".join(iframes))) == sorted(
        f"video/{label}/iframes.m3u8" for label, _, _ in tracks
    )


async def check_storyboard(
    stack: Stack, media_hash: str, artifact: Any, source: Path, clip: Clip
) -> None:
    """The storyboard as a player reads it through /stream: cues back to back over the
    whole video, each box inside the sprite, each tile the frame at its cue's start."""
    prefix = video_prefix(media_hash)
    assert artifact == {
        "sprite": prefix + "storyboard.jpg", "vtt": prefix + "storyboard.vtt",
        "json": prefix + "storyboard.json", "tiles": clip.seconds, "interval_ms": 1000,
        "tile_width": artifact["tile_width"], "tile_height": artifact["tile_height"],
    }  # fmt: skip
    headers = {"Origin": "https://player.example"}
    vtt = await stack.client.get(f"/stream/{media_hash}/storyboard.vtt", headers=headers)
    assert vtt.status_code == 200
    assert vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    assert vtt.headers["access-control-allow-origin"] in ("*", headers["Origin"])
    cues = parse_cues(vtt.text)
    assert len(cues) == artifact["tiles"]
    assert coverage_problems(cues, clip.seconds, tolerance=1 / clip.fps) == []
    assert {cue.image for cue in cues} == {"storyboard.jpg"}
    assert {cue.box[2:] for cue in cues} == {(artifact["tile_width"], artifact["tile_height"])}
    sprite = await stack.client.get(f"/stream/{media_hash}/storyboard.jpg")
    differences = await asyncio.to_thread(
        tile_differences, stack.tools.ffmpeg, source, sprite.content, cues
    )
    assert max(differences) < TILE_MAD_THRESHOLD, differences


def check_probe(
    tools: MediaBinaries, tree: Path, tracks: list[tuple[str, int, int]], *, audio: bool
) -> None:
    """ffprobe reads the master playlist and every rendition it names."""
    streams = ffprobe_streams(tools.ffprobe, tree / "master.m3u8")
    video = sorted(
        (s["codec_name"], s["width"], s["height"]) for s in streams if s["codec_type"] == "video"
    )
    expected = sorted(
        ("av1" if label.endswith("av1") else "h264", width, height)
        for label, width, height in tracks
    )
    assert video == expected
    audio_codecs = {s["codec_name"] for s in streams if s["codec_type"] == "audio"}
    assert audio_codecs == ({"aac"} if audio else set())


def h264_labels(tracks: list[tuple[str, int, int]]) -> list[str]:
    return [label for label, _, _ in tracks if label.endswith("h264")]


def av1_labels(tracks: list[tuple[str, int, int]]) -> list[str]:
    return [label for label, _, _ in tracks if label.endswith("av1")]


def track_file(tree: Path, directory: str, name: str) -> Path:
    """init + segments of one track as one fragmented MP4."""
    track_dir = tree / directory
    return concatenate([track_dir / "init.mp4", *segments_in_order(track_dir)], tree.parent / name)


# --- the tests -------------------------------------------------------------------------


async def test_thumbnail_job_writes_each_variant(stack: Stack, jobs: dict[str, str]) -> None:
    results = await stack.results_of(jobs["thumbnail"])

    stored = await stack.objects("images/e2/e2e-photo/")
    assert set(stored) == {"images/e2/e2e-photo/small.webp", "images/e2/e2e-photo/card.jpg"}
    assert results == [
        {"variant": "small", "key": "images/e2/e2e-photo/small.webp", "format": "webp",
         "size": stored["images/e2/e2e-photo/small.webp"].size},
        {"variant": "card", "key": "images/e2/e2e-photo/card.jpg", "format": "jpg",
         "size": stored["images/e2/e2e-photo/card.jpg"].size},
    ]  # fmt: skip
    for key, loader, size in (
        ("images/e2/e2e-photo/small.webp", "webpload_buffer", (160, 120)),
        ("images/e2/e2e-photo/card.jpg", "jpegload_buffer", (200, 100)),
    ):
        assert stored[key].content_type == CONTENT_TYPES["." + key.rsplit(".", 1)[1]]
        image = pyvips.Image.new_from_buffer(await stack.read(key), "")
        assert (image.get("vips-loader"), (image.width, image.height)) == (loader, size)


async def test_cover_job_writes_a_source_sized_jpeg(stack: Stack, jobs: dict[str, str]) -> None:
    results = await stack.results_of(jobs["cover"])

    stored = await stack.objects(video_prefix("e2e-cover"))
    key = video_prefix("e2e-cover") + "cover.jpg"
    assert set(stored) == {key}
    check_image_artifact(results, key, "jpg", stored)
    image = pyvips.Image.new_from_buffer(await stack.read(key), "")
    assert (image.get("vips-loader"), image.width, image.height) == ("jpegload_buffer", 640, 360)


async def test_preview_job_writes_an_animated_gif(stack: Stack, jobs: dict[str, str]) -> None:
    results = await stack.results_of(jobs["preview"])

    stored = await stack.objects(video_prefix("e2e-preview"))
    key = video_prefix("e2e-preview") + "preview.gif"
    assert set(stored) == {key}
    check_image_artifact(results, key, "gif", stored)
    image = pyvips.Image.new_from_buffer(await stack.read(key), "", n=-1)
    assert image.get("vips-loader") == "gifload_buffer"
    # 2 s at 5 fps, 160 px wide at the source's 16:9.
    assert (image.width, image.get("page-height"), image.get("n-pages")) == (160, 90, 10)


async def test_transcode_job_publishes_a_playable_hls_ladder(
    stack: Stack, jobs: dict[str, str]
) -> None:
    results = await stack.results_of(jobs["clear"])

    stored = await stack.objects(video_prefix("e2e-clear"))
    check_transcode(
        results, "e2e-clear", audio=True, encrypted=False, tracks=LANDSCAPE_TRACKS,
        stored=stored, downloads=True,
    )  # fmt: skip
    tree = await stack.local_tree("e2e-clear")
    check_master(tree, LANDSCAPE_TRACKS, audio=True)
    await asyncio.to_thread(check_probe, stack.tools, tree, LANDSCAPE_TRACKS, audio=True)
    for label in h264_labels(LANDSCAPE_TRACKS):
        playlist = tree / "video" / label / "playlist.m3u8"
        frames = await asyncio.to_thread(frame_hashes, stack.tools.ffmpeg, playlist)
        assert len(frames) == LANDSCAPE.frames, label
    # Two 6 s segments: the ladder keeps keyframes on segment boundaries.
    assert all(t["segment_count"] == 2 for t in results["video_tracks"])
    # The same tree through the app's /stream route.
    served = await stack.client.get("/stream/e2e-clear/master.m3u8")
    assert served.status_code == 200
    assert served.headers["content-type"] == CONTENT_TYPES[".m3u8"]
    assert served.content == (tree / "master.m3u8").read_bytes()


def top_level_boxes(data: bytes) -> list[str]:
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        assert size >= 8, f"bad box size at {offset}"
        offset += size
    return boxes


def format_duration(ffprobe: str, path: Path) -> float:
    argv = [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"]
    return float(run_tool([*argv, str(path)]))


async def test_transcode_downloads_are_served_as_attachments_with_ranges(
    stack: Stack, jobs: dict[str, str], tmp_path: Path
) -> None:
    results = await stack.results_of(jobs["clear"])
    prefix = video_prefix("e2e-clear")
    stored = await stack.objects(prefix)
    assert results["downloads"] == [
        {"kind": "highest", "key": prefix + "downloads/highest.mp4", "format": "mp4",
         "size": stored[prefix + "downloads/highest.mp4"].size},
        {"kind": "audio", "key": prefix + "downloads/audio.m4a", "format": "m4a",
         "size": stored[prefix + "downloads/audio.m4a"].size},
    ]  # fmt: skip
    files = {}
    for name, content_type in (("highest.mp4", "video/mp4"), ("audio.m4a", "audio/mp4")):
        url = f"/stream/e2e-clear/downloads/{name}"
        served = await stack.client.get(url)
        assert served.status_code == 200, name
        assert served.headers["content-type"] == content_type
        assert served.headers["content-disposition"] == "attachment"
        assert served.headers["accept-ranges"] == "bytes"
        size = len(served.content)
        part = await stack.client.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206, name
        assert part.headers["content-range"] == f"bytes 100-199/{size}"
        assert part.headers["content-disposition"] == "attachment"
        assert part.content == served.content[100:200]
        boxes = top_level_boxes(served.content)
        assert boxes.index("moov") < boxes.index("mdat"), (name, boxes)  # +faststart
        files[name] = tmp_path / name
        files[name].write_bytes(served.content)

    highest, audio = files["highest.mp4"], files["audio.m4a"]
    streams = await asyncio.to_thread(ffprobe_streams, stack.tools.ffprobe, highest)
    assert sorted((s["codec_name"], s.get("width")) for s in streams) == [
        ("aac", None), ("h264", 640),
    ]  # fmt: skip  # the top H.264 rung
    frames = await asyncio.to_thread(frame_hashes, stack.tools.ffmpeg, highest)
    assert len(frames) == LANDSCAPE.frames  # decodes, every frame
    duration = await asyncio.to_thread(format_duration, stack.tools.ffprobe, highest)
    assert abs(duration - LANDSCAPE.seconds) <= 1 / LANDSCAPE.fps
    streams = await asyncio.to_thread(ffprobe_streams, stack.tools.ffprobe, audio)
    assert [s["codec_name"] for s in streams] == ["aac"]
    samples = await asyncio.to_thread(frame_hashes, stack.tools.ffmpeg, audio, stream="a:0")
    assert samples  # decodes


async def test_transcode_storyboard_is_served_beside_the_stream(
    stack: Stack, jobs: dict[str, str]
) -> None:
    results = await stack.results_of(jobs["clear"])
    prefix = video_prefix("e2e-clear")
    storyboard = results["storyboard"]
    assert {k: storyboard[k] for k in ("sprite", "vtt", "json")} == {
        "sprite": prefix + "storyboard.jpg", "vtt": prefix + "storyboard.vtt",
        "json": prefix + "storyboard.json",
    }  # fmt: skip
    assert storyboard["tiles"] == LANDSCAPE.seconds  # one a second
    await check_storyboard(stack, "e2e-clear", storyboard, stack.work / "landscape.mp4", LANDSCAPE)
    vtt = await stack.client.get("/stream/e2e-clear/storyboard.vtt")
    assert vtt.status_code == 200
    assert vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    assert vtt.text.startswith("WEBVTT")
    assert vtt.text.count("storyboard.jpg#xywh=") == storyboard["tiles"]
    tiles = (await stack.client.get("/stream/e2e-clear/storyboard.json")).json()
    assert len(tiles["tiles"]) == storyboard["tiles"]
    sprite = await stack.client.get("/stream/e2e-clear/storyboard.jpg")
    assert sprite.headers["content-type"] == "image/jpeg"
    image = pyvips.Image.new_from_buffer(sprite.content, "")
    assert (image.width, image.height) == (storyboard["tiles"] * 160, 90)  # one row


async def test_av1_renditions_decode_with_dav1d(stack: Stack, jobs: dict[str, str]) -> None:
    decoder = await asyncio.to_thread(dav1d_ffmpeg)
    if decoder is None:
        service_unavailable(
            "AV1 decoder", "no /usr/bin/ffmpeg with libdav1d (apt-get install ffmpeg)"
        )
    for job, media_hash, tracks, frames in (
        ("clear", "e2e-clear", LANDSCAPE_TRACKS, LANDSCAPE.frames),
        ("full", "e2e-full", PORTRAIT_TRACKS, PORTRAIT.frames),
    ):
        await stack.results_of(jobs[job])
        tree = await stack.local_tree(media_hash)
        for label in av1_labels(tracks):
            playlist = tree / "video" / label / "playlist.m3u8"
            decoded = await asyncio.to_thread(
                frame_hashes, decoder, playlist, input_args=["-c:v", "libdav1d"]
            )
            assert len(decoded) == frames, label


async def test_encrypted_transcode_decrypts_to_the_clear_renditions(
    stack: Stack, jobs: dict[str, str]
) -> None:
    results = await stack.results_of(jobs["encrypted"])
    await stack.results_of(jobs["clear"])

    stored = await stack.objects(video_prefix("e2e-enc"))
    check_transcode(
        results, "e2e-enc", audio=True, encrypted=True, tracks=LANDSCAPE_TRACKS, stored=stored
    )
    key_uri = results["encryption"]["key_endpoint"]
    kid = bytes.fromhex(results["encryption"]["kid"])
    encrypted, clear = await stack.local_tree("e2e-enc"), await stack.local_tree("e2e-clear")
    directories = ["audio/und_aac_2ch"] + [f"video/{t[0]}" for t in LANDSCAPE_TRACKS]
    for directory in directories:
        playlist = (encrypted / directory / "playlist.m3u8").read_text()
        assert f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{key_uri}"' in playlist, directory
        assert kid in (encrypted / directory / "init.mp4").read_bytes(), directory

    # The key as a player gets it: a token minted by the upstream app, then the endpoint.
    assert (await stack.client.get(urlsplit(key_uri).path)).status_code == 401
    token = mint_key_token(stack.config.secrets.key_token_secret, "e2e-enc", int(time.time()) + 300)
    delivered = await stack.client.get(
        urlsplit(key_uri).path, headers={"Authorization": f"Bearer {token}"}
    )
    assert delivered.status_code == 200
    assert delivered.headers["cache-control"] == "no-store"
    content_key = delivered.content
    assert len(content_key) == 16

    # Decrypted frames equal the clear package's frames, for audio and every H.264 rung;
    # without the key they do not (the samples really are encrypted).
    ffmpeg = stack.tools.ffmpeg
    for directory, stream in [("audio/und_aac_2ch", "a:0")] + [
        (f"video/{label}", "v:0") for label in h264_labels(LANDSCAPE_TRACKS)
    ]:
        name = directory.replace("/", "-")
        clear_file = await asyncio.to_thread(track_file, clear, directory, f"clear-{name}.mp4")
        sealed_file = await asyncio.to_thread(track_file, encrypted, directory, f"enc-{name}.mp4")
        expected = await asyncio.to_thread(frame_hashes, ffmpeg, clear_file, stream=stream)
        decrypted = await asyncio.to_thread(
            frame_hashes, ffmpeg, sealed_file, stream=stream,
            input_args=["-decryption_key", content_key.hex()],
        )  # fmt: skip
        assert decrypted == expected, directory
        if stream == "v:0":
            assert len(expected) == LANDSCAPE.frames
            try:
                undecrypted = await asyncio.to_thread(
                    frame_hashes, ffmpeg, sealed_file, stream=stream
                )
            except ToolFailed:
                undecrypted = []  # refusing to decode shows the samples are encrypted too
            assert undecrypted != expected, directory


async def test_full_job_on_a_portrait_clip_without_audio(
    stack: Stack, jobs: dict[str, str]
) -> None:
    results = await stack.results_of(jobs["full"])

    prefix = video_prefix("e2e-full")
    stored = await stack.objects(prefix)
    assert set(results) == {"stages", "artifacts", "retry_plan"}
    assert results["stages"] == {
        stage: {"status": "ready"}
        for stage in ("source", "cover", "preview", "transcode", "storyboard")
    }
    assert results["retry_plan"] == {"allowed": False, "strategy": "none"}
    artifacts = results["artifacts"]
    assert set(artifacts) == {"cover", "preview", "transcode", "storyboard"}
    check_image_artifact(artifacts["cover"], prefix + "cover.jpg", "jpg", stored)
    check_image_artifact(artifacts["preview"], prefix + "preview.webp", "webp", stored)
    await check_storyboard(
        stack, "e2e-full", artifacts["storyboard"], stack.work / "portrait.mp4", PORTRAIT
    )
    not_hls = {prefix + name for name in ("cover.jpg", "preview.webp", *STORYBOARD_FILES)}
    hls = {k: v for k, v in stored.items() if k not in not_hls}
    check_transcode(
        artifacts["transcode"], "e2e-full", audio=False, encrypted=False,
        tracks=PORTRAIT_TRACKS, stored=hls,
    )  # fmt: skip

    cover = pyvips.Image.new_from_buffer(await stack.read(prefix + "cover.jpg"), "")
    assert (cover.width, cover.height) == (180, 320)
    preview = pyvips.Image.new_from_buffer(await stack.read(prefix + "preview.webp"), "", n=-1)
    # The default preview: 480 px wide, from 2 s, at 10 fps (1 s of a 3 s clip is left).
    assert (preview.width, preview.get("page-height")) == (480, 852)
    assert preview.get("n-pages") >= 5

    tree = await stack.local_tree("e2e-full")
    check_master(tree, PORTRAIT_TRACKS, audio=False)
    await asyncio.to_thread(check_probe, stack.tools, tree, PORTRAIT_TRACKS, audio=False)
    for label in h264_labels(PORTRAIT_TRACKS):
        playlist = tree / "video" / label / "playlist.m3u8"
        frames = await asyncio.to_thread(frame_hashes, stack.tools.ffmpeg, playlist)
        assert len(frames) == PORTRAIT.frames, label


async def test_failed_preview_stage_plans_and_runs_a_stage_retry(
    stack: Stack, jobs: dict[str, str]
) -> None:
    failed_id = jobs["failing"]
    failed = await stack.final(failed_id)
    prefix = video_prefix("e2e-retry")

    assert failed["status"] == "failed"
    assert failed["error"] == "video:full failed: [preview]"
    results = failed["results"]
    preview_stage = results["stages"]["preview"]
    assert preview_stage["error"].startswith("generate preview: injected fault")
    assert results["stages"] == {
        "source": {"status": "ready"},
        "cover": {"status": "ready"},
        "preview": {
            "status": "failed", "error_code": "generate_failed",
            "error": preview_stage["error"], "retryable": True,
        },
        "transcode": {"status": "skipped", "reason": "blocked_by_failed_dependencies"},
        # Beside the failed preview, not blocked by it: not in the retry plan.
        "storyboard": {"status": "ready"},
    }  # fmt: skip
    assert results["retry_plan"] == {
        "allowed": True,
        "strategy": "retry_tasks",
        "job_types": ["video:preview", "video:transcode"],
        "stages": ["preview", "transcode"],
        "reason": "cover/preview stage failed",
    }
    # The stage that succeeded keeps its artifact, and its object stays published.
    stored = await stack.objects(prefix)
    assert set(results["artifacts"]) == {"cover", "storyboard"}
    check_image_artifact(results["artifacts"]["cover"], prefix + "cover.jpg", "jpg", stored)
    assert set(stored) == {prefix + name for name in ("cover.jpg", *STORYBOARD_FILES)}

    response = await stack.client.post(f"/api/jobs/{failed_id}/retry")
    assert response.status_code == 202, response.text
    retry = response.json()
    assert retry["source_job_id"] == failed_id
    assert retry["strategy"] == "retry_tasks"
    assert [(j["type"], j["status"], j["retry_of_job_id"]) for j in retry["jobs"]] == [
        ("video:preview", "queued", failed_id),
        ("video:transcode", "queued", failed_id),
    ]
    preview_id, transcode_id = (job["job_id"] for job in retry["jobs"])
    stack.submitted.extend([preview_id, transcode_id])

    preview = await stack.results_of(preview_id)
    transcode = await stack.results_of(transcode_id)
    assert (await stack.job(preview_id))["retry_of_job_id"] == failed_id
    stored = await stack.objects(prefix)
    check_image_artifact(preview, prefix + "preview.webp", "webp", stored)
    hls = {k: v for k, v in stored.items() if k.endswith((".m3u8", ".mpd", ".m4s", ".mp4"))}
    check_transcode(
        transcode, "e2e-retry", audio=False, encrypted=False, tracks=PORTRAIT_TRACKS, stored=hls
    )
    # The retried stage ran with the failed job's own preview options.
    image = pyvips.Image.new_from_buffer(await stack.read(prefix + "preview.webp"), "", n=-1)
    assert image.get("delay")[0] == round(1000 / FAULT_FPS)


async def failed_attempts(stack: Stack, job_id: str) -> int:
    """How many attempts the queue counted for the (archived) task of ``job_id``."""
    archived = await stack.runtime.queue.list_archived("default", 1000)
    return next(entry.retried for entry in archived if entry.task.id == job_id)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        pytest.param(
            "photo_preview", "generate preview: source is not a video (image/jpeg)", id="jpeg"
        ),
    ],
)
async def test_a_source_that_can_never_be_video_fails_at_the_first_attempt(
    stack: Stack, jobs: dict[str, str], name: str, error: str
) -> None:
    """Failed by its first attempt, no retry scheduled (a retry would have kept the
    job ``processing`` for 10 s and more); its one webhook is checked below."""
    job = await stack.final(jobs[name])

    assert (job["status"], job["error"]) == ("failed", error)
    assert "results" not in job
    assert await failed_attempts(stack, jobs[name]) == 1


async def test_an_av1_source_transcodes(stack: Stack, jobs: dict[str, str]) -> None:
    job = await stack.final(jobs["av1"])

    assert job["status"] == "completed", job.get("error")
    codecs = {track["codec"] for track in job["results"]["video_tracks"]}
    assert codecs == {"av1", "h264"}


async def test_a_photo_as_a_transcode_source_is_refused_or_fails_once(stack: Stack) -> None:
    body = {"type": "video:transcode", "hash": "e2e-photo-video", "source": PHOTO}

    refused = await stack.client.post(
        "/api/jobs", json={**body, "callback_url": stack.receiver.url}
    )

    assert (refused.status_code, refused.json()) == (
        400, {"message": "source is not a video (image/jpeg)"},
    )  # fmt: skip
    # A job that skips the preflight (written and enqueued directly, as the reconciler
    # re-enqueues rows) still fails at once on the worker.
    request = decode_job_request({**body, "callback_url": stack.receiver.url})
    created = await stack.runtime.jobs.create(
        NewJob(
            id=str(uuid.uuid4()), type=request.type, hash=request.hash, source=request.source,
            options=request.canonical_options(), request_fingerprint=request.fingerprint(),
            callback_url=request.callback_url,
        )
    )  # fmt: skip
    await stack.runtime.queue.enqueue(task_for_job(created.job))
    stack.submitted.append(created.job.id)

    job = await stack.final(created.job.id)

    assert (job["status"], job["error"]) == (
        "failed", "transcode: source is not a video (image/jpeg)",
    )  # fmt: skip
    assert await failed_attempts(stack, created.job.id) == 1


async def test_every_job_gets_one_signed_webhook_despite_two_refusals(
    stack: Stack, jobs: dict[str, str]
) -> None:
    """Runs last: it waits for every job of the module, including retried stages."""
    for job_id in jobs.values():
        await stack.final(job_id)
    async with asyncio.timeout(WEBHOOK_SECONDS):
        for job_id in stack.submitted:
            while (await stack.job(job_id))["callback_status"] != "sent":
                await asyncio.sleep(0.2)
    # Longer than the deliverer's 1 s poll: a duplicate would show up by then.
    await asyncio.sleep(2.5)

    secret = stack.config.secrets.webhook_secret.encode()
    assert {d.job_id for d in stack.receiver.deliveries} == set(stack.submitted)
    for job_id in stack.submitted:
        deliveries = stack.receiver.for_job(job_id)
        assert [d.answered for d in deliveries] == [503, 503, 204], job_id
        # Back-off between attempts, counted from each refusal: 1 s, then 2 s.
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(deliveries)]
        assert gaps[0] >= 1.0
        assert gaps[1] >= 2.0
        job = await stack.job(job_id)
        for delivery in deliveries:
            headers, body = delivery.headers, delivery.body
            assert delivery.path == "/hook"
            assert headers["content-type"] == "application/json"
            assert headers["user-agent"] == "Vylux-Webhook/1.0"
            digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["x-signature"], f"sha256={digest}")
            stamp = int(headers["x-vylux-timestamp"])
            assert abs(time.time() - stamp) < 120
            stamped = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["x-vylux-signature"], f"v1={stamped}")
            payload = json.loads(body)
            keys = ["job_id", "type", "hash", "status"]
            keys += ["error"] if job["status"] == "failed" else []
            keys += ["results"] if job.get("results") is not None else []
            assert list(payload) == keys
            assert payload["job_id"] == job_id
            assert (payload["type"], payload["hash"], payload["status"]) == (
                job["type"], job["hash"], job["status"],
            )  # fmt: skip
            assert payload.get("error") == job.get("error")
            assert payload.get("results") == job.get("results")


async def test_worker_loops_outlive_a_database_and_queue_blip(stack: Stack) -> None:
    """The first outbox poll and the first lease-recovery pass failed (see the fixture);
    the loops kept going: the outbox delivered every webhook above, and the recoverer
    (every 5 s) polls again."""
    async with asyncio.timeout(scaled(20.0)):
        while min(blip.calls for blip in stack.blips.values()) < 2:
            await asyncio.sleep(0.2)
