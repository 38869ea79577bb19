"""``audio:transcode`` on in-memory stores, a fake audio toolchain and real scratch dirs:
what is uploaded where, the results JSON, how failures are told apart, the retry."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from vylux_adapters.memory import (
    ManualClock,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectStore,
    MemoryWebhookOutbox,
)
from vylux_adapters.scratch import LocalScratchSpace
from vylux_cli.job_display import results_headline, results_views
from vylux_core.errors import MediaToolFailed, StorageUnavailable, UnsupportedMedia
from vylux_core.jobs.job import Job, JobStatus, JobType, NewJob
from vylux_core.jobs.results import (
    ResultsDecodeError,
    RetryStrategy,
    structure_results,
    unstructure_results,
)
from vylux_core.jobs.retry_requests import build_retry_requests
from vylux_core.media.audio_renditions import audio_download_path
from vylux_core.media.waveform import Waveform
from vylux_core.ports.audio_toolchain import (
    AudioDownloadFile,
    AudioPackage,
    AudioPlan,
    AudioProbe,
)
from vylux_core.ports.media_toolchain import PackagedTrack, ProgressCallback
from vylux_core.security.key_ring import KeyEncryptionKey, KeyRing
from vylux_core.services import KeyService
from vylux_core.worker import ProgressReporter, is_permanent
from vylux_core.workflows import AudioTranscodeWorkflow

H = "abcdef1234567890"
PREFIX = f"videos/ab/{H}/audio-only/"


class FakeAudioToolchain:
    """Writes a tiny package of the plan's shape; ``fail`` raises from package_audio."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.plans: list[AudioPlan] = []

    async def probe_audio(self, source: Path) -> AudioProbe:
        return AudioProbe(duration_seconds=8.0, sample_rate=44100, channels=2, codec="pcm_s16le")

    async def package_audio(
        self,
        source: Path,
        plan: AudioPlan,
        work_dir: Path,
        output_dir: Path,
        on_progress: ProgressCallback | None = None,
    ) -> AudioPackage:
        self.plans.append(plan)
        if self.fail is not None:
            raise self.fail
        files = ["manifest.mpd"]
        for rendition in plan.renditions:
            files += [
                f"{rendition.id}/{name}" for name in ("init.mp4", "playlist.m3u8", "seg_1.m4s")
            ]
        files.append("master.m3u8")
        downloads = tuple(
            AudioDownloadFile(kind=kind, file=audio_download_path(kind)) for kind in plan.downloads
        )
        for relative in [*files, *(d.file for d in downloads)]:
            (output_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (output_dir / relative).write_bytes(relative.encode())
        tracks = tuple(
            PackagedTrack(track_id=r.id, directory=r.id, segment_count=1, bandwidth=r.bitrate // 2)
            for r in plan.renditions
        )
        return AudioPackage(
            master_playlist="master.m3u8", dash_manifest="manifest.mpd", tracks=tracks,
            files=tuple(files), downloads=downloads,
        )  # fmt: skip

    async def waveform(self, source: Path, bins: int) -> Waveform:
        return Waveform(sample_rate=8000, duration=8.0, peaks=((-0.5, 0.5),) * bins)


class RefusingUploads(MemoryObjectStore):
    async def upload_file(self, key: str, path: Path, *, content_type: str) -> None:
        raise StorageUnavailable("media store down")


class CountingEntropy:
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def token_bytes(self, n: int) -> bytes:
        return bytes((next(self._counter) + i) % 256 for i in range(n))


async def run(
    tmp_path: Path,
    options: dict[str, Any],
    *,
    toolchain: FakeAudioToolchain | None = None,
    media: MemoryObjectStore | None = None,
) -> tuple[Any, MemoryObjectStore, Job]:
    clock = ManualClock()
    source, media = MemoryObjectStore(), media or MemoryObjectStore()
    jobs = MemoryJobStore(clock=clock, outbox=MemoryWebhookOutbox())
    ring = KeyRing(
        keks=[KeyEncryptionKey(version="v1", key=b"k" * 32)], current_version="v1",
        entropy=CountingEntropy(),
    )  # fmt: skip
    keys = KeyService(
        keys=MemoryKeyStore(clock=clock), ring=ring, token_secret="t" * 32,
        base_url="https://media.example.com", clock=clock,
    )  # fmt: skip
    workflow = AudioTranscodeWorkflow(
        source=source, media=media, toolchain=toolchain or FakeAudioToolchain(),
        scratch=LocalScratchSpace(root=tmp_path, margin_bytes=0), keys=keys,
    )  # fmt: skip
    await source.put_bytes("uploads/in.wav", b"RIFF....WAVE", content_type="audio/wav")
    created = await jobs.create(
        NewJob(id="job", type=JobType.AUDIO_TRANSCODE, hash=H, source="uploads/in.wav",
               options=options, request_fingerprint="fp")
    )  # fmt: skip
    job = await jobs.mark_processing(created.job.id)
    results = await workflow(job, ProgressReporter(jobs=jobs, job_id=job.id, clock=clock))
    # As JSON: what the job's row, its webhook and the jobs API carry.
    return unstructure_results(results), media, await jobs.get(job.id)


async def test_a_clear_job_uploads_the_tree_and_reports_it(tmp_path: Path) -> None:
    options = {"downloads": ["m4a", "mp3"], "waveform": {"bins": 20}}
    results, media, job = await run(tmp_path, options)

    keys = [key async for key in media.list(PREFIX)]
    assert sorted(keys) == sorted(
        PREFIX + name
        for name in (
            "master.m3u8", "manifest.mpd", "waveform.json",
            "aac_128k/init.mp4", "aac_128k/playlist.m3u8", "aac_128k/seg_1.m4s",
            "aac_64k/init.mp4", "aac_64k/playlist.m3u8", "aac_64k/seg_1.m4s",
            "downloads/audio.mp3", "downloads/audio.m4a",
        )
    )  # fmt: skip
    assert results == {
        "streaming": {
            "protocol": "hls", "container": "cmaf", "encrypted": False,
            "master_playlist": PREFIX + "master.m3u8", "dash_manifest": PREFIX + "manifest.mpd",
            "default_audio_track_id": "aac_128k",
        },
        "audio_tracks": [
            {"id": rid, "role": "main", "language": "und", "codec": "aac", "channels": 2,
             "bitrate": bitrate, "playlist": f"{PREFIX}{rid}/playlist.m3u8",
             "init": f"{PREFIX}{rid}/init.mp4", "segment_count": 1}
            for rid, bitrate in (("aac_128k", 64000), ("aac_64k", 32000))
        ],
        "downloads": [
            {"kind": kind, "key": f"{PREFIX}downloads/audio.{kind}", "format": kind,
             "size": len(f"downloads/audio.{kind}")}
            for kind in ("mp3", "m4a")
        ],
        "waveform": {"key": PREFIX + "waveform.json", "bins": 20, "sample_rate": 8000,
                     "duration": 8.0},
    }  # fmt: skip
    assert job.progress == 95
    assert structure_results(JobType.AUDIO_TRANSCODE, results).waveform is not None
    info = await media.stat(PREFIX + "master.m3u8")
    assert info.content_type == "application/vnd.apple.mpegurl"


async def test_an_encrypted_job_plans_the_hash_key(tmp_path: Path) -> None:
    toolchain = FakeAudioToolchain()
    results, _, _ = await run(tmp_path, {"encrypt": True}, toolchain=toolchain)

    [plan] = toolchain.plans
    assert plan.encryption is not None
    assert plan.encryption.key_uri == f"https://media.example.com/api/key/{H}"
    assert results["streaming"]["encrypted"] is True
    assert results["encryption"] == {
        "scheme": "cbcs", "kid": plan.encryption.kid_hex, "key_endpoint": plan.encryption.key_uri,
    }  # fmt: skip
    assert "downloads" not in results
    assert "waveform" not in results


async def test_a_source_without_audio_is_a_permanent_transcode_failure(tmp_path: Path) -> None:
    toolchain = FakeAudioToolchain(fail=UnsupportedMedia("source has no audio stream"))

    with pytest.raises(UnsupportedMedia) as caught:
        await run(tmp_path, {}, toolchain=toolchain)

    assert caught.value.message == "transcode audio: source has no audio stream"
    assert caught.value.step is not None
    assert (caught.value.step.name, caught.value.step.upload) == ("transcode audio", False)
    assert is_permanent(caught.value)


async def test_a_tool_failure_is_retried(tmp_path: Path) -> None:
    toolchain = FakeAudioToolchain(fail=MediaToolFailed("ffmpeg: exit 1: boom"))

    with pytest.raises(MediaToolFailed) as caught:
        await run(tmp_path, {}, toolchain=toolchain)

    assert caught.value.message == "transcode audio: ffmpeg: exit 1: boom"
    assert not is_permanent(caught.value)


async def test_an_upload_failure_names_the_upload_step(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable) as caught:
        await run(tmp_path, {}, media=RefusingUploads())

    assert caught.value.message == "upload HLS: media store down"
    assert caught.value.step is not None
    assert caught.value.step.upload is True


def test_a_failed_job_is_retried_as_one_job_of_its_type() -> None:
    job = Job(
        id="j1", type=JobType.AUDIO_TRANSCODE, hash=H, source="s.wav",
        options={"waveform": {"bins": 50}}, request_fingerprint="fp", status=JobStatus.FAILED,
        progress=10, callback_url="", callback_status="pending", retry_of_job_id=None,
        error="transcode audio: boom", results=None, queue="default", max_retry=3,
        created_at=ManualClock().now(), updated_at=ManualClock().now(),
    )  # fmt: skip

    retry = build_retry_requests(job)

    assert retry.strategy == RetryStrategy.RETRY_JOB
    [request] = retry.requests
    assert (request.type, request.source) == (JobType.AUDIO_TRANSCODE, "s.wav")


@pytest.mark.parametrize(
    "bad",
    [
        {"waveform": {"key": "k", "bins": 10, "sample_rate": 8000, "duration": "8"}},
        {"waveform": {"key": "k", "bins": 10, "sample_rate": 8000, "duration": 8, "x": 1}},
        {"video_tracks": []},
    ],
)
def test_results_decode_strictly(bad: dict[str, Any]) -> None:
    good = {
        "streaming": {"protocol": "hls", "container": "cmaf", "encrypted": False,
                      "master_playlist": "m"},
        "audio_tracks": [],
    }  # fmt: skip
    assert structure_results("audio:transcode", good).audio_tracks == ()
    with pytest.raises(ResultsDecodeError):
        structure_results("audio:transcode", {**good, **bad})


async def test_the_cli_shows_the_stream_downloads_and_waveform(tmp_path: Path) -> None:
    results, _, _ = await run(tmp_path, {"downloads": ["flac"], "waveform": {}})

    assert results_headline("audio:transcode", results) == PREFIX + "master.m3u8"
    views = results_views("audio:transcode", results)
    assert len(views) == 3  # the master line, the tracks, the files
    rendered = repr(views[-1].columns[1]._cells)  # the key column
    assert "downloads/audio.flac" in rendered
    assert "waveform.json" in rendered
