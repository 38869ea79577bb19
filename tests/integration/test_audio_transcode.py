"""``audio:transcode`` of a generated on/off tone through the real FFmpeg, ffprobe and
Shaka Packager (in-memory stores): the HLS decodes, the downloads decode, and the
waveform's loud and silent bins are where the tone was on and off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import make_on_off_tone, run_tool
from tests.support.media_jobs import run_media_job
from vylux_adapters.media import MediaBinaries
from vylux_core.errors import UnsupportedMedia
from vylux_core.jobs.job import JobType
from vylux_core.jobs.results import AudioTranscodeResult
from vylux_core.media.storage_keys import video_prefix

pytestmark = pytest.mark.slow

HASH = "audio0123456789a"
CYCLES = 3  # 6 s: on, off, on, off, on, off
BINS = 60  # 10 bins per second
OPTIONS = {"downloads": ["mp3", "m4a", "flac"], "waveform": {"bins": BINS}}


@pytest.fixture(scope="module")
def binaries() -> MediaBinaries:
    return MediaBinaries.resolve()


@pytest.fixture(scope="module")
def tone(binaries: MediaBinaries, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_on_off_tone(
        binaries.ffmpeg, tmp_path_factory.mktemp("tone") / "tone.wav", cycles=CYCLES
    )


async def run_audio_job(
    binaries: MediaBinaries, source: Path, scratch: Path, options: dict[str, Any]
) -> AudioTranscodeResult:
    """One ``audio:transcode`` of ``source``; its objects are copied under
    ``scratch/tree`` (the media store's keys as paths)."""
    results = await run_media_job(
        binaries, source, scratch, job_type=JobType.AUDIO_TRANSCODE, media_hash=HASH,
        options=options, with_audio=True,
    )  # fmt: skip
    assert isinstance(results, AudioTranscodeResult)
    return results


@pytest.fixture(scope="module")
async def finished(
    binaries: MediaBinaries, tone: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AudioTranscodeResult, Path]:
    scratch = tmp_path_factory.mktemp("job")
    return await run_audio_job(binaries, tone, scratch, OPTIONS), scratch / "tree"


def _decoded_seconds(ffmpeg: str, path: Path) -> float:
    """Seconds of audio ``path`` decodes to (-xerror: a corrupt packet fails the run)."""
    argv = [ffmpeg, "-hide_banner", "-v", "error", "-xerror", "-i", str(path)]
    argv += ["-map", "0:a:0", "-ac", "1", "-ar", "8000", "-f", "s16le", "-"]
    return len(run_tool(argv)) / 2 / 8000


def test_the_hls_master_playlist_decodes_at_both_bitrates(
    binaries: MediaBinaries, finished: tuple[AudioTranscodeResult, Path]
) -> None:
    result, tree = finished
    assert result.streaming.master_playlist == video_prefix(HASH) + "audio-only/master.m3u8"
    assert result.streaming.dash_manifest == video_prefix(HASH) + "audio-only/manifest.mpd"
    assert [track.id for track in result.audio_tracks] == ["aac_128k", "aac_64k"]
    assert result.audio_tracks[0].bitrate > result.audio_tracks[1].bitrate
    assert _decoded_seconds(binaries.ffmpeg, tree / result.streaming.master_playlist) == (
        pytest.approx(2 * CYCLES, abs=0.1)
    )
    for track in result.audio_tracks:
        assert _decoded_seconds(binaries.ffmpeg, tree / track.playlist) == pytest.approx(
            2 * CYCLES, abs=0.1
        )
    raw = run_tool([binaries.ffprobe, "-v", "error", "-of", "json", "-show_streams",
                    str(tree / result.audio_tracks[0].playlist)])  # fmt: skip
    (stream,) = json.loads(raw)["streams"]
    assert (stream["codec_name"], stream["channels"]) == ("aac", 2)
    assert not any((tree / video_prefix(HASH)).glob("*.m3u8"))  # nothing at the video's top


def test_mp3_m4a_and_flac_downloads_decode(
    binaries: MediaBinaries, finished: tuple[AudioTranscodeResult, Path]
) -> None:
    result, tree = finished
    downloads = {download.kind: download for download in result.downloads or ()}
    assert list(downloads) == ["mp3", "m4a", "flac"]
    codecs = {"mp3": "mp3", "m4a": "aac", "flac": "flac"}
    for kind, download in downloads.items():
        assert download.key == video_prefix(HASH) + f"audio-only/downloads/audio.{kind}"
        path = tree / download.key
        assert path.stat().st_size == download.size
        raw = run_tool([binaries.ffprobe, "-v", "error", "-of", "json", "-show_streams",
                        str(path)])  # fmt: skip
        (stream,) = json.loads(raw)["streams"]
        assert stream["codec_name"] == codecs[kind]
        assert _decoded_seconds(binaries.ffmpeg, path) == pytest.approx(2 * CYCLES, abs=0.1)


def test_the_m4a_is_the_128k_rendition_remuxed(
    finished: tuple[AudioTranscodeResult, Path],
) -> None:
    result, tree = finished
    m4a = next(d for d in result.downloads or () if d.kind == "m4a")
    data = (tree / m4a.key).read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart


def test_the_waveform_is_loud_where_the_tone_is_on_and_silent_where_off(
    finished: tuple[AudioTranscodeResult, Path],
) -> None:
    result, tree = finished
    assert result.waveform is not None
    assert (result.waveform.bins, result.waveform.sample_rate) == (BINS, 8000)
    assert result.waveform.duration == pytest.approx(2 * CYCLES, abs=0.01)
    document = json.loads((tree / result.waveform.key).read_bytes())
    assert document["bins"] == BINS
    assert len(document["peaks"]) == BINS
    per_second = BINS // (2 * CYCLES)
    for index, (low, high) in enumerate(document["peaks"]):
        assert -1.0 <= low <= high <= 1.0
        second, position = divmod(index, per_second)
        if position in (0, per_second - 1):
            continue  # a bin at an edge may hold a little of both
        if second % 2 == 0:
            assert (high > 0.7, low < -0.7) == (True, True), (index, low, high)
        else:
            assert high == low == 0.0, (index, low, high)


async def test_a_source_without_audio_fails_permanently(
    binaries: MediaBinaries, tmp_path: Path
) -> None:
    silent = tmp_path / "video.mp4"
    run_tool([binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
              "-i", "testsrc2=size=64x64:rate=10:duration=1", "-c:v", "libx264",
              "-pix_fmt", "yuv420p", str(silent)])  # fmt: skip
    with pytest.raises(UnsupportedMedia, match=r"^transcode audio: source has no audio stream$"):
        await run_audio_job(binaries, silent, tmp_path, {})


async def test_the_audio_of_a_video_is_transcoded(binaries: MediaBinaries, tmp_path: Path) -> None:
    video = tmp_path / "video.mp4"
    run_tool([binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
              "-i", "testsrc2=size=64x64:rate=10:duration=2", "-f", "lavfi",
              "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
              "-c:a", "aac", str(video)])  # fmt: skip
    result = await run_audio_job(binaries, video, tmp_path, {"encrypt": True})
    assert result.streaming.encrypted
    assert result.encryption is not None
    playlist = (tmp_path / "tree" / result.audio_tracks[0].playlist).read_text()
    assert 'METHOD=SAMPLE-AES,URI="https://media.example.com/api/key/' in playlist
    mpd = (tmp_path / "tree" / result.streaming.dash_manifest).read_text()
    assert "e2719d58-a985-b3c9-781a-b030af78d30e" in mpd  # ClearKey signalled


# Audio files as phones, podcasts and music stores deliver them; the 96 kHz FLAC is a
# high-resolution master, whose renditions come down to 48 kHz.
SOURCE_FORMATS = {
    "mp3": ("-c:a", "libmp3lame", "-b:a", "128k"),
    "m4a": ("-c:a", "aac", "-b:a", "96k"),
    "flac": ("-c:a", "flac"),
    "ogg": ("-c:a", "libvorbis"),
    "opus": ("-c:a", "libopus", "-b:a", "64k"),
}


@pytest.mark.parametrize(
    ("extension", "rate", "want_rate"),
    [
        ("mp3", 44100, 44100),
        ("m4a", 48000, 48000),
        ("flac", 96000, 48000),
        ("ogg", 44100, 44100),
        ("opus", 48000, 48000),
    ],
)
async def test_each_audio_file_format_transcodes(
    binaries: MediaBinaries, tmp_path: Path, extension: str, rate: int, want_rate: int
) -> None:
    source = tmp_path / f"in.{extension}"
    run_tool([binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
              "-i", f"sine=frequency=440:sample_rate={rate}:duration=2",
              *SOURCE_FORMATS[extension], str(source)])  # fmt: skip

    result = await run_audio_job(binaries, source, tmp_path, {"downloads": ["m4a"]})

    master = tmp_path / "tree" / result.streaming.master_playlist
    assert _decoded_seconds(binaries.ffmpeg, master) == pytest.approx(2, abs=0.1)
    init = tmp_path / "tree" / result.audio_tracks[0].init
    probe = run_tool([binaries.ffprobe, "-v", "error", "-of", "json", "-show_streams", str(init)])
    stream = json.loads(probe)["streams"][0]
    assert (stream["codec_name"], int(stream["sample_rate"])) == ("aac", want_rate)
