"""HLS playback in a real browser: ``vylux-cli serve`` transcodes, hls.js plays it in Chromium.

One ``vylux-cli serve`` (HTTP + in-process worker, embedded profile) transcodes a generated
6 s clip twice, clear and encrypted; then each master playlist is played by hls.js in
headless Chromium (``page.html``) and must pass 2 s of real playback on an H.264 variant,
the encrypted one with its key fetched from ``/api/key/{hash}`` with a Bearer token.

Needs Debian's ``chromium`` and hls.js from npm (both installed by ``.ci/run``); without
them the tests skip locally and fail in CI (``tests.support.services``). Selected with
``-m browser``; about 30 s in all.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from attrs import frozen

from tests.browser.harness import (
    HLS_JS,
    HLS_JS_INSTALL,
    PAGE,
    PageServer,
    VyluxServer,
    find_chromium,
    log_tail,
    play_in_chromium,
)
from tests.support.deadlines import scaled
from tests.support.services import service_unavailable
from vylux_adapters.media import MediaBinaries
from vylux_core.key_token import mint_key_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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
# name -> (media hash, encrypt)
STREAMS = {"clear": ("browserclear01", False), "encrypted": ("browsercrypt01", True)}
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


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    chromium = find_chromium()
    if chromium is None:
        service_unavailable("Chromium", "no chromium on PATH (.ci/run: apt-get install chromium)")
    if not HLS_JS.is_file():
        service_unavailable("hls.js", f"{HLS_JS} is missing (install: {HLS_JS_INSTALL})")
    workdir = tmp_path_factory.mktemp("browser")
    data_dir = workdir / "data"
    clip = make_clip(workdir / "clip.mp4")
    asyncio.run(put_source(data_dir / "source", clip))
    vylux = VyluxServer(data_dir=data_dir, settings=SERVER_SETTINGS, workdir=workdir)
    vylux.start()
    try:
        files = {"/page.html": PAGE, "/hls.min.js": HLS_JS}
        pages = PageServer(upstream=vylux.base_url, files=files)
        pages.start()
        try:
            yield World(vylux=vylux, pages=pages, chromium=chromium, streams=transcode(vylux))
        finally:
            pages.stop()
    finally:
        vylux.stop()


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


def transcode(vylux: VyluxServer) -> dict[str, Stream]:
    """Submit both ``video:transcode`` jobs at once, then wait for both to complete."""
    with httpx.Client(
        base_url=vylux.base_url, headers={"X-API-Key": API_KEY}, timeout=30.0
    ) as client:
        job_ids: dict[str, str] = {}
        for name, (media_hash, encrypt) in STREAMS.items():
            body = {
                "type": "video:transcode", "hash": media_hash, "source": SOURCE_KEY,
                "options": {"encrypt": encrypt},
            }  # fmt: skip
            response = client.post("/api/jobs", json=body)
            assert response.status_code == 202, response.text
            job_ids[name] = response.json()["job_id"]
        jobs = wait_for_jobs(client, job_ids, vylux)
    return {
        name: Stream(hash=STREAMS[name][0], encrypted=STREAMS[name][1], results=job["results"])
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
            elif job["status"] in ("failed", "cancelled"):
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


@pytest.mark.parametrize("name", ["clear", "encrypted"])
def test_hls_plays_past_two_seconds_on_h264_in_chromium(
    world: World, name: str, tmp_path: Path
) -> None:
    stream = world.streams[name]
    streaming = stream.results["streaming"]
    assert streaming["encrypted"] is stream.encrypted
    assert "h264" in {track["codec"] for track in stream.results["video_tracks"]}
    query = {"timeout_ms": str(int(PAGE_TIMEOUT * 1000))}
    if stream.encrypted:
        # Through the page server's same-origin proxy: /api/key has no CORS (PageServer).
        query["src"] = f"{world.pages.origin}/stream/{stream.hash}/master.m3u8"
        # Minted as `vylux-cli key-token` does, with the server's KEY_TOKEN_SECRET.
        query["token"] = mint_key_token(KEY_TOKEN_SECRET, stream.hash, int(time.time()) + 3600)
    else:
        # Straight from Vylux, cross-origin: /stream answers with CORS `*`.
        query["src"] = f"{world.vylux.base_url}/stream/{stream.hash}/master.m3u8"
    first_proxied = len(world.pages.proxied)

    result = play_in_chromium(
        world.chromium, f"{world.pages.origin}/page.html?{urlencode(query)}", world.pages,
        tmp_path, timeout=PAGE_TIMEOUT + 15,
    )  # fmt: skip

    seen = json.dumps(result, indent=1)
    assert result["status"] == "played", seen
    assert result["currentTime"] > 2, seen
    assert result["decodedFrames"] > 0, seen
    assert [error for error in result["errors"] if error.get("fatal")] == [], seen
    levels = result["levels"]
    loaded_codecs = [levels[index]["videoCodec"] for index in result["loadedLevels"]]
    assert any(codec.startswith("avc1") for codec in loaded_codecs), seen
    key_path = f"/api/key/{stream.hash}"
    if stream.encrypted:
        # The segments really were encrypted, and the only key the CDM got came from Vylux.
        assert result["encryptedEvents"] > 0, seen
        assert result["keyRequests"], seen
        assert all(
            request["uri"] == world.pages.origin + key_path and request["bytes"] == 16
            for request in result["keyRequests"]
        ), seen
        key_fetches = [
            (request.authorized, request.status)
            for request in world.pages.proxied_since(first_proxied)
            if request.path == key_path
        ]
        assert key_fetches, seen
        assert set(key_fetches) == {(True, 200)}, key_fetches
    else:
        assert (result["encryptedEvents"], result["keyRequests"]) == (0, []), seen
