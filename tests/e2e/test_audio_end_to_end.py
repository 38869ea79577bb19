"""``audio:transcode`` end to end on the production wiring: the HTTP API, the worker,
PostgreSQL, Redis and SeaweedFS S3, FFmpeg and Shaka Packager.

The jobs are submitted through ``POST /api/jobs`` at the start; each test waits for its
own. Outputs are fetched back through ``/stream`` (downloads as attachments with Range)
and the key routes, decoded with FFmpeg, and removed by ``DELETE /api/media/{hash}``.
The stack is built like ``test_worker_end_to_end``'s, with its helpers, minus the fault
and outage injection that module needs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_worker_end_to_end import (
    BASE_URL,
    Stack,
    failed_attempts,
    run_worker_and_connect,
    service_backends,
    top_level_boxes,
    video_prefix,
)
from tests.support.media import (
    ToolFailed,
    bundled_binaries,
    concatenate,
    ffprobe_streams,
    frame_hashes,
    make_clip,
    make_on_off_tone,
    segments_in_order,
)
from tests.support.seaweedfs import S3Server
from tests.support.webhook_receiver import WebhookReceiver
from vylux_cli.bootstrap import build_server, build_worker, open_runtime
from vylux_cli.config import load_config
from vylux_core.security.key_token import mint_key_token

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]

CYCLES = 2  # a 4 s WAV: tone, silence, tone, silence
BINS = 40
TONE, CLIP, SILENT = "uploads/tone.wav", "uploads/clip.mp4", "uploads/silent.mp4"


@pytest.fixture(scope="module")
async def stack(
    postgres_url: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("audio-e2e")
    tools = bundled_binaries()
    sources = {
        TONE: make_on_off_tone(tools.ffmpeg, work / "tone.wav", cycles=CYCLES),
        CLIP: make_clip(tools.ffmpeg, work / "clip.mp4", width=160, height=90, seconds=3,
                        fps=10, audio=True),
        SILENT: make_clip(tools.ffmpeg, work / "silent.mp4", width=160, height=90, seconds=1,
                          fps=10, audio=False),
    }  # fmt: skip
    async with AsyncExitStack() as exits:
        receiver = WebhookReceiver()
        env, media_bucket = await service_backends(
            exits, postgres_url=postgres_url, s3_server=s3_server, sources=sources,
            receiver=receiver, scratch=work / "scratch",
        )  # fmt: skip
        config = load_config(env)
        runtime = await exits.enter_async_context(open_runtime(config))
        app = await exits.enter_async_context(build_server(runtime))
        worker = await exits.enter_async_context(build_worker(runtime))
        client = await run_worker_and_connect(
            exits, app, worker, name="audio-e2e-worker", api_key=config.secrets.api_key
        )
        yield Stack(
            config=config, runtime=runtime, client=client, receiver=receiver,
            s3=s3_server.admin, media_bucket=media_bucket, tools=tools, work=work,
        )  # fmt: skip


@pytest.fixture(scope="module")
async def jobs(stack: Stack) -> dict[str, str]:
    bodies: dict[str, dict[str, Any]] = {
        "tone": {
            "type": "audio:transcode", "hash": "e2e-tone", "source": TONE,
            "options": {"downloads": ["mp3", "m4a", "flac"], "waveform": {"bins": BINS}},
        },
        "encrypted": {
            "type": "audio:transcode", "hash": "e2e-audio-enc", "source": CLIP,
            "options": {"encrypt": True},
        },
        "clear": {"type": "audio:transcode", "hash": "e2e-audio-clear", "source": CLIP},
        "silent": {"type": "audio:transcode", "hash": "e2e-audio-silent", "source": SILENT},
    }  # fmt: skip
    ids = await asyncio.gather(*(stack.submit(body) for body in bodies.values()))
    return dict(zip(bodies, ids, strict=True))


def audio_prefix(media_hash: str) -> str:
    return video_prefix(media_hash) + "audio-only/"


async def test_the_stream_is_published_under_the_audio_only_tree(
    stack: Stack, jobs: dict[str, str]
) -> None:
    results = await stack.results_of(jobs["tone"])
    prefix = audio_prefix("e2e-tone")
    stored = await stack.objects(video_prefix("e2e-tone"))
    assert all(key.startswith(prefix) for key in stored)
    assert results["streaming"] == {
        "protocol": "hls", "container": "cmaf", "encrypted": False,
        "master_playlist": prefix + "master.m3u8", "dash_manifest": prefix + "manifest.mpd",
        "default_audio_track_id": "aac_128k",
    }  # fmt: skip
    assert [track["id"] for track in results["audio_tracks"]] == ["aac_128k", "aac_64k"]
    for track in results["audio_tracks"]:
        assert track["playlist"] in stored
        assert track["init"] in stored
        assert (track["codec"], track["channels"], track["segment_count"]) == ("aac", 2, 1)
    assert stored[prefix + "master.m3u8"].content_type == "application/vnd.apple.mpegurl"
    assert stored[prefix + "manifest.mpd"].content_type == "application/dash+xml"

    tree = await stack.local_tree("e2e-tone")
    master = tree / "audio-only" / "master.m3u8"
    streams = await asyncio.to_thread(ffprobe_streams, stack.tools.ffprobe, master)
    assert {(s["codec_name"], s["channels"]) for s in streams} == {("aac", 2)}
    samples = await asyncio.to_thread(frame_hashes, stack.tools.ffmpeg, master, stream="a:0")
    assert len(samples) > 4 * 44100 / 1024 * 0.95  # ~4 s of 1024-sample AAC frames

    served = await stack.client.get("/stream/e2e-tone/audio-only/master.m3u8")
    assert served.status_code == 200
    assert "aac_128k/playlist.m3u8" in served.text
    assert "content-disposition" not in served.headers


async def test_downloads_are_served_as_attachments_with_ranges(
    stack: Stack, jobs: dict[str, str], tmp_path: Path
) -> None:
    results = await stack.results_of(jobs["tone"])
    prefix = audio_prefix("e2e-tone")
    stored = await stack.objects(prefix)
    kinds = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "flac": "audio/flac"}
    assert results["downloads"] == [
        {"kind": kind, "key": f"{prefix}downloads/audio.{kind}", "format": kind,
         "size": stored[f"{prefix}downloads/audio.{kind}"].size}
        for kind in kinds
    ]  # fmt: skip
    for kind, content_type in kinds.items():
        url = f"/stream/e2e-tone/audio-only/downloads/audio.{kind}"
        served = await stack.client.get(url)
        assert served.status_code == 200, kind
        assert served.headers["content-type"] == content_type
        assert served.headers["content-disposition"] == "attachment"
        part = await stack.client.get(url, headers={"Range": "bytes=10-49"})
        assert part.status_code == 206, kind
        assert part.headers["content-range"] == f"bytes 10-49/{len(served.content)}"
        assert part.content == served.content[10:50]
        path = tmp_path / f"audio.{kind}"
        path.write_bytes(served.content)
        streams = await asyncio.to_thread(ffprobe_streams, stack.tools.ffprobe, path)
        assert [s["codec_name"] for s in streams] == [{"m4a": "aac"}.get(kind, kind)]
        assert await asyncio.to_thread(frame_hashes, stack.tools.ffmpeg, path, stream="a:0")
        if kind == "m4a":
            boxes = top_level_boxes(served.content)
            assert boxes.index("moov") < boxes.index("mdat")


async def test_the_waveform_follows_the_tone(stack: Stack, jobs: dict[str, str]) -> None:
    results = await stack.results_of(jobs["tone"])
    key = audio_prefix("e2e-tone") + "waveform.json"
    assert results["waveform"] == {"key": key, "bins": BINS, "sample_rate": 8000, "duration": 4.0}
    served = await stack.client.get("/stream/e2e-tone/audio-only/waveform.json")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    peaks = json.loads(served.content)["peaks"]
    assert len(peaks) == BINS
    per_second = BINS // (2 * CYCLES)
    loud = [max(high for _, high in peaks[s * per_second + 1 : (s + 1) * per_second - 1])
            for s in range(2 * CYCLES)]  # fmt: skip
    assert [level > 0.7 for level in loud] == [True, False] * CYCLES
    assert loud[1::2] == [0.0] * CYCLES


async def test_an_encrypted_stream_decrypts_with_the_delivered_key(
    stack: Stack, jobs: dict[str, str]
) -> None:
    results = await stack.results_of(jobs["encrypted"])
    await stack.results_of(jobs["clear"])
    assert results["streaming"]["encrypted"] is True
    key_uri = results["encryption"]["key_endpoint"]
    assert key_uri == f"{BASE_URL}/api/key/e2e-audio-enc"
    token = mint_key_token(
        stack.config.secrets.key_token_secret, "e2e-audio-enc", int(time.time()) + 300
    )
    delivered = await stack.client.get(
        urlsplit(key_uri).path, headers={"Authorization": f"Bearer {token}"}
    )
    assert delivered.status_code == 200
    content_key = delivered.content.hex()
    sealed, clear = (
        await stack.local_tree("e2e-audio-enc"),
        await stack.local_tree("e2e-audio-clear"),
    )
    ffmpeg = stack.tools.ffmpeg
    for rendition in ("aac_128k", "aac_64k"):
        directory = f"audio-only/{rendition}"
        playlist = (sealed / directory / "playlist.m3u8").read_text()
        assert f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{key_uri}"' in playlist
        files = {}
        for name, tree in (("sealed", sealed), ("clear", clear)):
            track = tree / directory
            files[name] = await asyncio.to_thread(
                concatenate, [track / "init.mp4", *segments_in_order(track)],
                stack.work / f"{name}-{rendition}.mp4",
            )  # fmt: skip
        expected = await asyncio.to_thread(frame_hashes, ffmpeg, files["clear"], stream="a:0")
        decrypted = await asyncio.to_thread(
            frame_hashes, ffmpeg, files["sealed"], stream="a:0",
            input_args=["-decryption_key", content_key],
        )  # fmt: skip
        assert decrypted == expected, rendition
        try:
            undecrypted = await asyncio.to_thread(
                frame_hashes, ffmpeg, files["sealed"], stream="a:0"
            )
        except ToolFailed:
            undecrypted = []
        assert undecrypted != expected, rendition
    mpd = (sealed / "audio-only" / "manifest.mpd").read_text()
    assert "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" in mpd


async def test_a_source_without_audio_fails_at_the_first_attempt(
    stack: Stack, jobs: dict[str, str]
) -> None:
    job = await stack.final(jobs["silent"])
    assert (job["status"], job["error"]) == (
        "failed",
        "transcode audio: source has no audio stream",
    )
    assert await failed_attempts(stack, jobs["silent"]) == 1


async def test_delete_media_removes_the_audio_tree(stack: Stack, jobs: dict[str, str]) -> None:
    await stack.results_of(jobs["clear"])
    assert await stack.objects(audio_prefix("e2e-audio-clear"))
    await stack.local_tree("e2e-audio-clear")  # the encrypted test compares against it

    response = await stack.client.delete("/api/media/e2e-audio-clear")

    assert response.status_code == 204
    assert await stack.objects(video_prefix("e2e-audio-clear")) == {}
    missing = await stack.client.get("/stream/e2e-audio-clear/audio-only/master.m3u8")
    assert missing.status_code == 404
