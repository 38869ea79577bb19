"""The browser tests' shared world: one ``vylux-cli serve``, two short streams, Chromium.

One ``vylux-cli serve`` (HTTP + in-process worker, embedded profile) transcodes a generated
6 s clip twice, clear and encrypted, into one AV1 and one H.264 rendition each, with HLS
playlists and a DASH manifest over the same segments, and English subtitles from a sidecar
WebVTT file (the clear one with a storyboard too), and its sound twice more as
``audio:transcode`` streams (clear and encrypted). Every player page then plays those two
streams straight from Vylux, cross-origin: ``/stream`` answers CORS ``*`` by default and the
key routes allow the page server's origin (``CORS_ALLOWED_ORIGINS``).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from attrs import frozen

from tests.browser.harness import (
    PAGE_FILES,
    PLAYERS_INSTALL,
    PageServer,
    VyluxServer,
    find_chromium,
    log_tail,
    play_in_chromium,
)
from tests.support.deadlines import scaled
from tests.support.media import SAMPLE_VTT
from tests.support.services import service_unavailable
from vylux_adapters.media import MediaBinaries
from vylux_core.security.key_token import mint_key_token

# Known secrets, so no secrets.env is generated and the API key is at hand.
API_KEY = "22" * 32
KEY_TOKEN_SECRET = "44" * 16
SERVER_SETTINGS = {
    "HMAC_SECRET": "11" * 32,
    "API_KEY": API_KEY,
    "WEBHOOK_SECRET": "33" * 32,
    "KEY_TOKEN_SECRET": KEY_TOKEN_SECRET,
    "ENCRYPTION_KEY": "55" * 32,
    # Stopping the server at the end should not wait out the production grace periods.
    "SHUTDOWN_TIMEOUT": "5s",
    "WORKER_SHUTDOWN_TIMEOUT": "5s",
}
SOURCE_KEY = "uploads/browser-clip.mp4"
CAPTIONS_KEY = "uploads/browser-clip.en.vtt"
CAPTIONS = [{"source": CAPTIONS_KEY, "language": "en", "name": "English", "default": True}]
# name -> (media hash, encrypt)
STREAMS = {"clear": ("browserclear01", False), "encrypted": ("browsercrypt01", True)}
# The clip's sound as audio:transcode streams: name -> (media hash, encrypt).
AUDIO_STREAMS = {"clear": ("browseraudio01", False), "encrypted": ("browseraudiocrypt01", True)}
# Both jobs run at once in the in-process worker; each takes seconds on this clip.
TRANSCODE_TIMEOUT = scaled(180.0)
# The page gives up (and reports what it has) after this; the test waits a little longer.
PAGE_TIMEOUT = scaled(60.0)


@frozen
class Stream:
    hash: str
    encrypted: bool
    results: dict[str, Any]  # the completed job's results (worker spec §5.4)


@frozen
class World:
    vylux: VyluxServer
    pages: PageServer
    chromium: str
    streams: dict[str, Stream]
    audio_streams: dict[str, Stream]

    def play(
        self,
        page: str,
        stream: Stream,
        manifest: str,
        workdir: Path,
        *,
        token: str | None = None,
        captions: bool = False,
        extra: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Open ``page`` (``shaka.html`` …) on ``manifest`` (``master.m3u8``,
        ``manifest.mpd``) of ``stream`` and return what the page reported. Encrypted streams
        get the licence URL and ``token`` (default: a valid key token for the stream);
        ``captions`` plays with the subtitles on instead of switching codecs; ``extra`` adds
        page-specific query parameters."""
        query = {
            "src": f"{self.vylux.base_url}/stream/{stream.hash}/{manifest}",
            "timeout_ms": str(int(PAGE_TIMEOUT * 1000)),
            **(extra or {}),
        }
        if captions:
            query["captions"] = "1"
        if stream.encrypted:
            query["licence"] = f"{self.vylux.base_url}/api/key/{stream.hash}/clearkey"
            # Minted as `vylux-cli key-token` does, with the server's KEY_TOKEN_SECRET.
            query["token"] = token or mint_key_token(
                KEY_TOKEN_SECRET, stream.hash, int(time.time()) + 3600
            )
        url = f"{self.pages.origin}/{page}?{urlencode(query)}"
        return play_in_chromium(self.chromium, url, self.pages, workdir, timeout=PAGE_TIMEOUT + 15)


def build_world(workdir: Path) -> Iterator[World]:
    """Start everything, transcode both streams, yield, stop everything."""
    chromium = find_chromium()
    if chromium is None:
        service_unavailable("Chromium", "no chromium on PATH (.ci/run: apt-get install chromium)")
    missing = [str(path) for path in PAGE_FILES.values() if not path.is_file()]
    if missing:
        service_unavailable("players", f"{missing} missing (install: {PLAYERS_INSTALL})")
    data_dir = workdir / "data"
    clip = make_clip(workdir / "clip.mp4")
    asyncio.run(put_source(data_dir / "source", clip))
    pages = PageServer(files=PAGE_FILES)
    pages.start()
    try:
        settings = {**SERVER_SETTINGS, "CORS_ALLOWED_ORIGINS": pages.origin}
        vylux = VyluxServer(data_dir=data_dir, settings=settings, workdir=workdir)
        vylux.start()
        try:
            yield World(
                vylux=vylux, pages=pages, chromium=chromium, streams=transcode(vylux),
                audio_streams=transcode(vylux, "audio:transcode", AUDIO_STREAMS),
            )  # fmt: skip
        finally:
            vylux.stop()
    finally:
        pages.stop()


def make_clip(path: Path) -> Path:
    """6 s of 320×180 moving test pictures at 25 fps with a tone: H.264/AAC, like an upload.

    ``yuv420p`` because testsrc2 is RGB and x264 would otherwise choose 4:4:4.
    """
    ffmpeg = MediaBinaries.resolve().ffmpeg  # the bundled one the worker uses too
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6"]
    argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "96k", str(path)]
    done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return path


async def put_source(root: Path, clip: Path) -> None:
    """Store the clip as the source object, before the server starts.

    Written through the store itself: the API has no upload route, and this does not
    depend on how the local store lays its objects out on disk.
    """
    from vylux_adapters.local import LocalDirObjectStore

    root.mkdir(parents=True, exist_ok=True)
    store = LocalDirObjectStore(root=root)
    await store.put_bytes(SOURCE_KEY, clip.read_bytes(), content_type="video/mp4")
    await store.put_bytes(CAPTIONS_KEY, SAMPLE_VTT.encode(), content_type="text/vtt")


# Sidecar subtitles for the video streams; an audio job has no captions option.
VIDEO_OPTIONS: dict[str, dict[str, object]] = {"video:transcode": {"captions": CAPTIONS}}


def transcode(
    vylux: VyluxServer,
    job_type: str = "video:transcode",
    streams: dict[str, tuple[str, bool]] = STREAMS,
) -> dict[str, Stream]:
    """Submit one ``job_type`` job per stream (by default both ``video:transcode`` jobs) at
    once, then wait for all of them to complete."""
    with httpx.Client(
        base_url=vylux.base_url, headers={"X-API-Key": API_KEY}, timeout=30.0
    ) as client:
        job_ids: dict[str, str] = {}
        for name, (media_hash, encrypt) in streams.items():
            options = {"encrypt": encrypt, **VIDEO_OPTIONS.get(job_type, {})}
            if job_type == "video:transcode" and not encrypt:
                # The clear video stream also gets a storyboard (a transcode option;
                # encrypted streams may have one too, it is not encrypted).
                options["storyboard"] = True
            body = {
                "type": job_type, "hash": media_hash, "source": SOURCE_KEY,
                "options": options,
            }  # fmt: skip
            response = client.post("/api/jobs", json=body)
            assert response.status_code == 202, response.text
            job_ids[name] = response.json()["job_id"]
        jobs = wait_for_jobs(client, job_ids, vylux)
    return {
        name: Stream(hash=streams[name][0], encrypted=streams[name][1], results=job["results"])
        for name, job in jobs.items()
    }


def wait_for_jobs(
    client: httpx.Client, job_ids: dict[str, str], vylux: VyluxServer
) -> dict[str, dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + TRANSCODE_TIMEOUT
    while len(done) < len(job_ids):
        for name, job_id in job_ids.items():
            if name in done:
                continue
            job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
            if job["status"] == "completed":
                done[name] = job
            elif job["status"] in ("failed", "canceled"):
                raise AssertionError(
                    f"{name} transcode {job['status']}: {json.dumps(job)[:3000]}\n"
                    f"server log:\n{log_tail(vylux.log_path)}"
                )
        if time.monotonic() > deadline:
            pending = sorted(set(job_ids) - set(done))
            raise AssertionError(
                f"transcodes {pending} not completed within {TRANSCODE_TIMEOUT:.0f} s;"
                f" server log:\n{log_tail(vylux.log_path)}"
            )
        time.sleep(0.5)
    return done


def assert_played_both_codecs(
    result: dict[str, Any], stream: Stream, manifest: str, *, key_path: str | None = None
) -> None:
    """Past 3 s, first on H.264 and then on AV1, both renditions' segments fetched, and no
    error event at all; for an encrypted stream, with the key from Vylux's ``key_path``
    (``/api/key/{hash}/clearkey`` by default)."""
    seen = json.dumps(result, indent=1)
    assert result["status"] == "played", seen
    assert result["errors"] == [], seen
    assert result["currentTime"] > 3, seen
    assert result["decodedFrames"] > 0, seen
    offered = " ".join(track["codec"] for track in result["tracks"])
    assert "avc1" in offered, seen
    assert "av01" in offered, seen
    assert [switch["codec"] for switch in result["switches"]] == ["avc1", "av01"], seen
    base = f"/stream/{stream.hash}/"
    fetched = [url.split(base, 1)[1] for url in result["fetched"] if base in url]
    assert manifest in fetched, seen
    for label in ("r240_h264", "r240_av1"):
        assert f"video/{label}/seg_1.m4s" in fetched, seen
    if stream.encrypted:
        # The segments really were encrypted, and the key came from Vylux.
        assert result["encryptedEvents"] > 0, seen
        key_url = world_key_url(result, key_path or f"/api/key/{stream.hash}/clearkey")
        assert key_url, seen
    else:
        assert result["encryptedEvents"] == 0, seen


def world_key_url(result: dict[str, Any], key_path: str) -> str | None:
    """The fetched URL whose path is ``key_path``, if the page fetched it."""
    return next((url for url in result["fetched"] if urlsplit(url).path == key_path), None)
