"""``video:full`` on the input formats of docs/media.md, with the pip-installed toolchain.

Each source is generated at test time (tiny: 2 s, at most 320 px, lavfi test pictures)
with the configured ffmpeg's own encoders, then runs once through the real
``FullWorkflow`` and ``FfmpegMediaToolchain`` (in-memory stores; FFmpeg, ffprobe, Shaka
Packager and libvips are real). The tests inspect the finished jobs: every rendition
decodes end to end (AV1 included) with the same ffmpeg, renditions of rotated, portrait
and odd-sized sources are upright and even, keyframes line up across renditions of a
variable-frame-rate source, and an HLG source comes out as SDR BT.709 that looks like a
BT.709 encode of the same pictures (not washed out).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import pyvips  # type: ignore[import-untyped]
from attrs import frozen

from tests.support.media import run_tool
from tests.support.media_jobs import run_media_job
from vylux_adapters.media import FfmpegMediaToolchain, MediaBinaries
from vylux_core.jobs.job import JobType
from vylux_core.jobs.options import EffectivePreview
from vylux_core.jobs.results import unstructure_results
from vylux_core.media.ladder import KEYFRAME_SECONDS

pytestmark = pytest.mark.slow

SECONDS = 2
PICTURE = f"testsrc2=size=320x180:rate=25:duration={SECONDS}"
TONE = f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"
LOW_TONE = f"sine=frequency=220:sample_rate=48000:duration={SECONDS}"
# Short preview and early cover: each job should cost as little as the ladder allows.
OPTIONS = {"preview": {"duration": 1, "width": 160, "fps": 5}, "cover": {"timestamp_sec": 0.5}}
# RGB test pictures → BT.709 limited-range YUV, tagged so, as a camera writes them.
TO_BT709 = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv444p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
X264 = ("-c:v", "libx264", "-preset", "ultrafast")


def _hdr_hevc(transfer: str) -> tuple[str, ...]:
    """The same pictures as 10-bit BT.2020 HEVC with ``transfer`` (HLG as an iPhone
    records it, PQ as HDR10), tagged in the bitstream and the container."""
    graph = (
        f"{TO_BT709},zscale=t=linear:npl=100,format=gbrpf32le,"
        f"zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv,format=yuv420p10le"
    )
    x265 = f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc"
    tags = ("-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc")
    hevc = ("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", x265, "-tag:v", "hvc1")
    return (*_input(PICTURE, TONE), "-vf", graph, *hevc, *tags, "-c:a", "aac")


@frozen
class Source:
    file: str
    args: tuple[str, ...]  # ffmpeg arguments between the binary and the output path
    display: tuple[int, int]  # upright size the renditions must follow
    audio: bool


def _input(*graphs: str) -> tuple[str, ...]:
    return tuple(itertools.chain.from_iterable(("-f", "lavfi", "-i", g) for g in graphs))


SOURCES: Mapping[str, Source] = {
    "av1": Source(
        "av1.mp4",
        (*_input(PICTURE, TONE), "-c:v", "libsvtav1", "-preset", "12", "-c:a", "libopus"),
        (320, 180),
        audio=True,
    ),
    "hevc-10bit-hlg": Source("hlg.mov", _hdr_hevc("arib-std-b67"), (320, 180), audio=True),
    "hevc-10bit-pq": Source("pq.mp4", _hdr_hevc("smpte2084"), (320, 180), audio=True),
    "vp9-webm": Source(
        "vp9.webm",
        (
            *_input(PICTURE, TONE),
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "300k",
            "-c:a",
            "libopus",
        ),
        (320, 180),
        audio=True,
    ),
    "prores-mov": Source(
        "prores.mov",
        (*_input(PICTURE, TONE), "-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s16le"),
        (320, 180),
        audio=True,
    ),
    # Two audio tracks: the first becomes the rendition.
    "mpeg2-mkv-two-audio-tracks": Source(
        "mpeg2.mkv",
        (
            *_input(PICTURE, TONE, LOW_TONE),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-map",
            "2:a",
            "-c:v",
            "mpeg2video",
            "-q:v",
            "4",
            "-c:a",
            "mp2",
        ),
        (320, 180),
        audio=True,
    ),
    # H.264 High 10, portrait, larger than the smallest box: scaled down.
    "h264-10bit-portrait": Source(
        "portrait.mp4",
        (
            *_input(f"testsrc2=size=270x480:rate=25:duration={SECONDS}", TONE),
            *X264,
            "-pix_fmt",
            "yuv420p10le",
            "-c:a",
            "aac",
        ),
        (270, 480),
        audio=True,
    ),
    # Coded landscape, shown portrait (a phone held upright).
    "rotated": Source(
        "rotated.mp4",
        ("-display_rotation", "90", *_input(PICTURE), *X264, "-pix_fmt", "yuv420p"),
        (180, 320),
        audio=False,
    ),
    # 30 fps for one second, then every third frame for three: 33 ms, then 100 ms apart.
    "vfr": Source(
        "vfr.mp4",
        (
            *_input("testsrc2=size=320x180:rate=30:duration=4", TONE),
            "-vf",
            "select='lt(n,30)+not(mod(n,3))'",
            "-fps_mode",
            "vfr",
            *X264,
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ),
        (320, 180),
        audio=True,
    ),
    # No audio at all, and odd dimensions (4:4:4, which allows them; cropped after the
    # conversion, or the crop would round to 4:2:0's even sizes).
    "no-audio-odd-size": Source(
        "odd.mkv",
        (
            *_input(f"testsrc2=size=252x142:rate=25:duration={SECONDS}"),
            "-vf",
            "format=yuv444p,crop=251:141",
            *X264,
        ),
        (251, 141),
        audio=False,
    ),
}


@frozen
class Finished:
    results: dict[str, Any]
    tree: Path  # the job's media objects, copied out of the store

    def video_tracks(self) -> list[dict[str, Any]]:
        tracks: list[dict[str, Any]] = self.results["artifacts"]["transcode"]["video_tracks"]
        return tracks

    def file(self, key: str) -> Path:
        return self.tree / key


@pytest.fixture(scope="session")
def binaries() -> MediaBinaries:
    return MediaBinaries.resolve()


@pytest.fixture(scope="session")
def sources(binaries: MediaBinaries, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    made = {}
    for name, source in SOURCES.items():
        path = root / source.file
        run_tool(
            [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *source.args, str(path)]
        )
        made[name] = path
    return made


async def run_full(
    binaries: MediaBinaries, source: Path, scratch: Path, options: Mapping[str, Any] = OPTIONS
) -> dict[str, Any]:
    """One ``video:full`` job on ``source``; returns its results and copies its objects
    under ``scratch/tree``."""
    # As JSON: what the job's row and webhook carry.
    results: dict[str, Any] = unstructure_results(
        await run_media_job(
            binaries, source, scratch, job_type=JobType.FULL, media_hash="inputs0123456789",
            options=options,
        )
    )  # fmt: skip
    return results


@pytest.fixture(scope="module")
async def finished(
    binaries: MediaBinaries, sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Finished]:
    """Every source's ``video:full``, one after the other (each already uses both cores)."""
    done = {}
    for name, path in sources.items():
        scratch = tmp_path_factory.mktemp(name)
        results = await run_full(binaries, path, scratch)
        done[name] = Finished(results=results, tree=scratch / "tree")
    return done


def _decoded_frames(ffmpeg: str, playlist: Path) -> int:
    # -xerror: a corrupt packet fails the run instead of being concealed.
    argv = [ffmpeg, "-hide_banner", "-v", "error", "-xerror", "-i", str(playlist)]
    argv += ["-map", "0:v:0", "-f", "framemd5", "-"]
    lines = run_tool(argv).decode("ascii").splitlines()
    return sum(1 for line in lines if line and not line.startswith("#"))


def _stream(ffprobe: str, path: Path, stream: str = "v:0") -> dict[str, Any]:
    raw = run_tool([ffprobe, "-v", "error", "-of", "json", "-select_streams", stream,
                    "-show_streams", str(path)])  # fmt: skip
    streams: list[dict[str, Any]] = json.loads(raw)["streams"]
    return streams[0] if streams else {}


def _keyframe_times(ffprobe: str, playlist: Path) -> list[str]:
    raw = run_tool([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                    "packet=pts_time,flags", "-of", "csv=p=0", str(playlist)])  # fmt: skip
    rows = [line.split(",") for line in raw.decode().splitlines() if line]
    return [row[0] for row in rows if "K" in row[1]]


@pytest.mark.parametrize("name", list(SOURCES))
async def test_video_full_completes_and_every_rendition_decodes(
    finished: dict[str, Finished], binaries: MediaBinaries, name: str
) -> None:
    job = finished[name]
    stages = {stage: state["status"] for stage, state in job.results["stages"].items()}
    transcode = job.results["artifacts"]["transcode"]

    assert stages == dict.fromkeys(
        ("source", "cover", "preview", "transcode", "storyboard"), "ready"
    )
    assert {t["codec"] for t in job.video_tracks()} == {"av1", "h264"}
    for track in job.video_tracks():
        frames = await asyncio.to_thread(
            _decoded_frames, binaries.ffmpeg, job.file(track["playlist"])
        )
        assert frames >= SECONDS * 10, track["id"]  # the whole clip, not a first segment
    assert bool(transcode.get("audio_tracks")) is SOURCES[name].audio, transcode.keys()


@pytest.mark.parametrize("name", list(SOURCES))
async def test_renditions_cover_and_preview_follow_the_upright_size(
    finished: dict[str, Finished], binaries: MediaBinaries, name: str
) -> None:
    """Even sizes no larger than the source, in its display orientation; the cover at the
    display size, the preview at the requested width."""
    job = finished[name]
    display_w, display_h = SOURCES[name].display
    for track in job.video_tracks():
        width, height = track["width"], track["height"]
        coded = await asyncio.to_thread(_stream, binaries.ffprobe, job.file(track["playlist"]))
        assert (coded["width"], coded["height"]) == (width, height)
        assert width % 2 == height % 2 == 0, track
        assert (min(width, display_w), min(height, display_h)) == (width, height), track
        assert (width > height) is (display_w > display_h), track
    cover = pyvips.Image.new_from_file(str(job.file(job.results["artifacts"]["cover"]["key"])))
    preview = pyvips.Image.new_from_file(
        str(job.file(job.results["artifacts"]["preview"]["key"])), n=-1
    )
    assert (cover.width, cover.height) == (display_w, display_h)
    assert preview.width == OPTIONS["preview"]["width"]
    assert preview.get("n-pages") >= 2


async def test_vfr_source_keyframes_line_up_across_renditions(
    finished: dict[str, Finished], binaries: MediaBinaries
) -> None:
    job = finished["vfr"]
    keyframes = [
        await asyncio.to_thread(_keyframe_times, binaries.ffprobe, job.file(t["playlist"]))
        for t in job.video_tracks()
    ]

    # Every KEYFRAME_SECONDS of time, not of frames: (30 + 30 frames) / 4 s is 15 fps on
    # average, and a 30-frame GOP counted on the source's frames would end at 1 s.
    # (The GOP is a whole number of frames at the average rate, so "2 s" is within a frame.)
    assert all(times == keyframes[0] for times in keyframes), keyframes
    assert len(keyframes[0]) == 2, keyframes
    assert abs(float(keyframes[0][1]) - KEYFRAME_SECONDS) < 0.1, keyframes


def _luma_and_saturation(ffmpeg: str, path: Path, frames: int = 10) -> tuple[float, float]:
    """Mean Y and mean saturation (FFmpeg signalstats, 8-bit scale) of the first frames."""
    argv = [ffmpeg, "-hide_banner", "-v", "error", "-i", str(path), "-frames:v", str(frames)]
    argv += ["-vf", "format=yuv420p,signalstats,metadata=print:file=-", "-f", "null", "-"]
    values: dict[str, list[float]] = {"YAVG": [], "SATAVG": []}
    for line in run_tool(argv).decode().splitlines():
        key, _, value = line.rpartition("lavfi.signalstats.")[2].partition("=")
        if key in values:
            values[key].append(float(value))
    return (
        sum(values["YAVG"]) / len(values["YAVG"]),
        sum(values["SATAVG"]) / len(values["SATAVG"]),
    )


def _mean_chroma(path: Path) -> float:
    """Mean CIE LCh chroma over every frame of an image file."""
    image = pyvips.Image.new_from_file(str(path), n=-1)
    return float(image.colourspace("lch")[1].avg())


@pytest.fixture(scope="module")
def bt709_reference(binaries: MediaBinaries, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HLG source's pictures encoded straight to SDR BT.709: what the ladder should
    look like."""
    path = tmp_path_factory.mktemp("reference") / "bt709.mp4"
    argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *_input(PICTURE)]
    argv += ["-vf", f"{TO_BT709},format=yuv420p", *X264, str(path)]
    run_tool(argv)
    return path


@pytest.mark.parametrize("name", ["hevc-10bit-hlg", "hevc-10bit-pq"])
async def test_hdr_source_becomes_sdr_bt709_that_is_not_washed_out(
    finished: dict[str, Finished], binaries: MediaBinaries, bt709_reference: Path, name: str
) -> None:
    """HLG shown as BT.709 without tone mapping keeps about a third of the reference's
    saturation (BT.2020 primaries read as BT.709); tone-mapped it keeps most of it and
    about the same brightness."""
    job = finished[name]
    ref_luma, ref_saturation = await asyncio.to_thread(
        _luma_and_saturation, binaries.ffmpeg, bt709_reference
    )
    outputs = [job.file(t["playlist"]) for t in job.video_tracks()]
    outputs.append(job.file(job.results["artifacts"]["cover"]["key"]))
    for output in outputs:
        luma, saturation = await asyncio.to_thread(_luma_and_saturation, binaries.ffmpeg, output)
        assert 0.8 * ref_luma <= luma <= 1.2 * ref_luma, (output.name, luma, ref_luma)
        assert saturation >= 0.65 * ref_saturation, (output.name, saturation, ref_saturation)
    # The animated WebP preview, against one rendered from the reference (libvips reads it).
    preview = EffectivePreview(start_sec=0.0, duration=1.0, width=160, fps=5, format="webp")
    reference_preview = bt709_reference.with_name(f"preview-{name}.webp")
    await FfmpegMediaToolchain(binaries=binaries).render_preview(
        bt709_reference, preview, reference_preview
    )
    hlg_chroma = await asyncio.to_thread(
        _mean_chroma, job.file(job.results["artifacts"]["preview"]["key"])
    )
    reference_chroma = await asyncio.to_thread(_mean_chroma, reference_preview)
    assert hlg_chroma >= 0.65 * reference_chroma, (hlg_chroma, reference_chroma)
    for track in job.video_tracks():
        stream = await asyncio.to_thread(_stream, binaries.ffprobe, job.file(track["playlist"]))
        tags = [stream.get(k) for k in ("color_primaries", "color_transfer", "color_space")]
        assert tags == ["bt709"] * 3, track["id"]
        assert stream["pix_fmt"] == "yuv420p", track["id"]


async def test_ten_bit_sources_give_eight_bit_renditions(
    finished: dict[str, Finished], binaries: MediaBinaries
) -> None:
    for name in ("h264-10bit-portrait", "prores-mov"):
        for track in finished[name].video_tracks():
            playlist = finished[name].file(track["playlist"])
            stream = await asyncio.to_thread(_stream, binaries.ffprobe, playlist)
            assert stream["pix_fmt"] == "yuv420p", (name, track["id"])
