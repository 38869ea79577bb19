"""MediaToolchain contract: the files and shapes the video workflows rely on.

The FFmpeg toolchain works on tiny clips generated once per session (64x48, 10 fps,
2 s); the fake is configured with the probe those clips have and given a placeholder
file. What is checked is what the workflows read: the probe's fields, that each output
is written at its destination in its format, the package's tree and description, the
progress fractions, the typed failures, and that cancelling stops the work. The
pictures themselves are checked in ``tests/integration/test_media_toolchain.py``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from enum import Enum
from pathlib import Path

import attrs
import pytest
from attrs import frozen

from tests.support.deadlines import scaled
from tests.support.media import SAMPLE_VTT, bundled_binaries, make_clip, processes_naming
from vylux_adapters.media import FfmpegMediaToolchain
from vylux_adapters.memory import FakeMediaToolchain
from vylux_core.errors import InvalidOptions, MediaToolFailed, UnsupportedMedia
from vylux_core.jobs.options import EffectivePreview
from vylux_core.media.captions import CaptionOrigin, CaptionText, plan_captions
from vylux_core.media.downloads import DownloadKind, download_path
from vylux_core.media.ladder import (
    INIT_SEGMENT,
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    VideoCodec,
    resolve_ladder,
)
from vylux_core.media.storyboard import plan_storyboard
from vylux_core.ports.media_toolchain import (
    HlsPackage,
    HlsPlan,
    MediaProbe,
    MediaToolchain,
    PackagedDownload,
)

pytestmark = pytest.mark.slow

WIDTH, HEIGHT, FPS, SECONDS = 64, 48, 10, 2.0
# Long enough that its encodes are still running when the test cancels them.
LONG_SECONDS = 20.0


class Source(Enum):
    CLIP = "clip"  # H.264 + AAC
    SILENT = "silent"  # H.264 alone
    LONG = "long"  # H.264 + AAC, LONG_SECONDS
    TEXT = "text"  # no media at all
    MISSING = "missing"  # no file


def probe_of(source: Source) -> MediaProbe:
    return MediaProbe(
        width=WIDTH,
        height=HEIGHT,
        rotation=0,
        duration_seconds=LONG_SECONDS if source is Source.LONG else SECONDS,
        frame_rate=float(FPS),
        has_audio=source is not Source.SILENT,
    )


@frozen(kw_only=True)
class MediaWorld:
    toolchain: MediaToolchain
    source: Path


MediaWorldFactory = Callable[
    [Source, pytest.FixtureRequest], AbstractAsyncContextManager[MediaWorld]
]


@pytest.fixture(scope="session")
def contract_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[Source, Path]:
    root = tmp_path_factory.mktemp("contract-clips")
    ffmpeg = bundled_binaries().ffmpeg

    def clip(name: str, seconds: float, *, audio: bool) -> Path:
        path = root / name
        return make_clip(
            ffmpeg, path, width=WIDTH, height=HEIGHT, seconds=seconds, fps=FPS, audio=audio
        )

    text = root / "notes.mp4"
    text.write_bytes(b"this is not a video\n" * 20)
    return {
        Source.CLIP: clip("clip.mp4", SECONDS, audio=True),
        Source.SILENT: clip("silent.mp4", SECONDS, audio=False),
        Source.LONG: clip("long.mp4", LONG_SECONDS, audio=True),
        Source.TEXT: text,
        Source.MISSING: root / "missing.mp4",
    }


@pytest.fixture(scope="session")
def ffmpeg_toolchain() -> FfmpegMediaToolchain:
    return FfmpegMediaToolchain(binaries=bundled_binaries())


@asynccontextmanager
async def ffmpeg_world(source: Source, request: pytest.FixtureRequest) -> AsyncIterator[MediaWorld]:
    clips: dict[Source, Path] = request.getfixturevalue("contract_clips")
    toolchain: FfmpegMediaToolchain = request.getfixturevalue("ffmpeg_toolchain")
    yield MediaWorld(toolchain=toolchain, source=clips[source])


@asynccontextmanager
async def fake_world(source: Source, request: pytest.FixtureRequest) -> AsyncIterator[MediaWorld]:
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    path = factory.mktemp("fake-source") / "source.mp4"
    if source is not Source.MISSING:
        path.write_bytes(b"placeholder")
    unsupported = None
    if source is Source.TEXT:
        unsupported = "source is not a media file (ffprobe: exit 1: Invalid data found)"
    toolchain = FakeMediaToolchain(probe=probe_of(source), unsupported=unsupported)
    yield MediaWorld(toolchain=toolchain, source=path)


MEDIA_TOOLCHAIN_FACTORIES = [
    pytest.param(ffmpeg_world, id="ffmpeg"),
    pytest.param(fake_world, id="fake"),
]


@pytest.fixture(params=MEDIA_TOOLCHAIN_FACTORIES)
def factory(request: pytest.FixtureRequest) -> MediaWorldFactory:
    chosen: MediaWorldFactory = request.param
    return chosen


@pytest.fixture
async def world(
    factory: MediaWorldFactory, request: pytest.FixtureRequest
) -> AsyncIterator[MediaWorld]:
    async with factory(Source.CLIP, request) as adapter:
        yield adapter


JPEG = b"\xff\xd8"


def starts_as(data: bytes, fmt: str) -> bool:
    if fmt == "webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(b"GIF89a")


def preview_of(fmt: str) -> EffectivePreview:
    return EffectivePreview(start_sec=0.0, duration=1.0, width=32, fps=5, format=fmt)


CAPTION = CaptionText(
    language="en", name="English", default=True, origin=CaptionOrigin.SIDECAR, webvtt=SAMPLE_VTT
)


def plan_for(source: Source, **changes: object) -> HlsPlan:
    probe = probe_of(source)
    plan = HlsPlan(
        variants=resolve_ladder(probe.width, probe.height),
        include_audio=probe.has_audio,
        frame_rate=probe.frame_rate,
        downloads=(DownloadKind.HIGHEST, DownloadKind.AUDIO),
    )
    return attrs.evolve(plan, **changes)  # type: ignore[arg-type]


# --- probe, cover, preview, storyboard ---------------------------------------------------


@pytest.mark.parametrize("source", [Source.CLIP, Source.SILENT])
async def test_probe_describes_the_video(
    factory: MediaWorldFactory, request: pytest.FixtureRequest, source: Source
) -> None:
    async with factory(source, request) as world:
        probe = await world.toolchain.probe(world.source)

    want = probe_of(source)
    assert isinstance(probe, MediaProbe)
    # AAC priming makes the container a few ms longer than the pictures.
    assert probe.duration_seconds == pytest.approx(want.duration_seconds, abs=0.1)
    assert attrs.evolve(probe, duration_seconds=want.duration_seconds) == want


@pytest.mark.parametrize("timestamp", [0.0, 1.0, 99.0])
async def test_cover_is_a_jpeg_at_the_destination(
    world: MediaWorld, tmp_path: Path, timestamp: float
) -> None:
    destination = tmp_path / "nested" / "cover.jpg"  # its directory does not exist yet

    await world.toolchain.extract_cover(world.source, timestamp, destination)

    assert destination.read_bytes().startswith(JPEG)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
async def test_preview_is_written_in_its_format(
    world: MediaWorld, tmp_path: Path, fmt: str
) -> None:
    destination = tmp_path / "nested" / f"preview.{fmt}"

    await world.toolchain.render_preview(world.source, preview_of(fmt), destination)

    assert starts_as(destination.read_bytes(), fmt)


async def test_an_unsupported_preview_format_is_invalid_options(
    world: MediaWorld, tmp_path: Path
) -> None:
    with pytest.raises(InvalidOptions):
        await world.toolchain.render_preview(world.source, preview_of("mp4"), tmp_path / "p.mp4")

    assert os.listdir(tmp_path) == []


async def test_storyboard_is_a_jpeg_sprite(world: MediaWorld, tmp_path: Path) -> None:
    probe = await world.toolchain.probe(world.source)
    layout = plan_storyboard(probe.duration_seconds, probe.width, probe.height, probe.frame_rate)
    destination = tmp_path / "nested" / "storyboard.jpg"

    await world.toolchain.render_storyboard(world.source, layout, destination)

    assert destination.read_bytes().startswith(JPEG)


# --- failures ----------------------------------------------------------------------------


def every_step(world: MediaWorld, root: Path) -> dict[str, Callable[[], Awaitable[object]]]:
    layout = plan_storyboard(SECONDS, WIDTH, HEIGHT, float(FPS))
    source = world.source
    toolchain = world.toolchain
    return {
        "probe": lambda: toolchain.probe(source),
        "cover": lambda: toolchain.extract_cover(source, 0.5, root / "cover.jpg"),
        "preview": lambda: toolchain.render_preview(source, preview_of("gif"), root / "p.gif"),
        "storyboard": lambda: toolchain.render_storyboard(source, layout, root / "sb.jpg"),
        "package": lambda: toolchain.package_hls(
            source, plan_for(Source.CLIP), root / "work", root / "out"
        ),
    }


async def test_a_source_that_is_no_media_is_unsupported_everywhere_before_any_output(
    factory: MediaWorldFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with factory(Source.TEXT, request) as world:
        for step, call in every_step(world, tmp_path).items():
            with pytest.raises(UnsupportedMedia) as refused:
                await call()
            assert str(refused.value).startswith("source is not a media file"), step

    assert os.listdir(tmp_path) == []


async def test_a_missing_source_is_a_tool_failure_everywhere(
    factory: MediaWorldFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with factory(Source.MISSING, request) as world:
        for call in every_step(world, tmp_path).values():
            with pytest.raises(MediaToolFailed):  # transient, not UnsupportedMedia
                await call()

    assert os.listdir(tmp_path) == []


async def test_a_plan_without_variants_is_refused(world: MediaWorld, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no variants"):
        await world.toolchain.package_hls(
            world.source, plan_for(Source.CLIP, variants=()), tmp_path / "w", tmp_path / "o"
        )

    assert os.listdir(tmp_path) == []


# --- HLS packaging -----------------------------------------------------------------------


@frozen(kw_only=True)
class Packaged:
    plan: HlsPlan
    package: HlsPackage
    out: Path
    fractions: list[float]


@pytest.fixture(scope="module", params=MEDIA_TOOLCHAIN_FACTORIES)
async def packaged(request: pytest.FixtureRequest) -> dict[Source, Packaged]:
    """One package per adapter and source, shared by the tests that read it: a clip with
    sound and a sidecar caption, and a silent one with its H.264 rung alone."""
    factory: MediaWorldFactory = request.param
    tmp: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    plans = {
        Source.CLIP: plan_for(Source.CLIP, captions=(CAPTION,)),
        Source.SILENT: plan_for(
            Source.SILENT,
            variants=tuple(
                v for v in plan_for(Source.SILENT).variants if v.codec is VideoCodec.H264
            ),
        ),
    }
    made = {}
    for source, plan in plans.items():
        root = tmp.mktemp(f"package-{source.value}")
        fractions: list[float] = []
        async with factory(source, request) as world:
            package = await world.toolchain.package_hls(
                world.source, plan, root / "work", root / "out", fractions.append
            )
        made[source] = Packaged(plan=plan, package=package, out=root / "out", fractions=fractions)
    return made


@pytest.mark.parametrize("source", [Source.CLIP, Source.SILENT])
def test_package_lists_its_files_master_last(
    packaged: dict[Source, Packaged], source: Source
) -> None:
    result = packaged[source]
    package, out = result.package, result.out

    assert isinstance(package, HlsPackage)
    assert package.master_playlist == MASTER_PLAYLIST
    assert package.files[-1] == MASTER_PLAYLIST
    assert package.dash_manifest in package.files
    assert len(set(package.files)) == len(package.files)
    for name in package.files:
        assert not Path(name).is_absolute(), name
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name


@pytest.mark.parametrize("source", [Source.CLIP, Source.SILENT])
def test_package_describes_every_track(packaged: dict[Source, Packaged], source: Source) -> None:
    result = packaged[source]
    package, plan, files = result.package, result.plan, set(result.package.files)

    assert [track.track_id for track in package.video] == [v.label for v in plan.variants]
    assert (package.audio is not None) is plan.include_audio
    tracks = [*package.video, *([package.audio] if package.audio else [])]
    for track in tracks:
        assert f"{track.directory}/{MEDIA_PLAYLIST}" in files
        assert f"{track.directory}/{INIT_SEGMENT}" in files
        segments = [name for name in files if name.startswith(f"{track.directory}/seg_")]
        assert len(segments) == track.segment_count >= 1
        assert isinstance(track.bandwidth, int)
        assert track.bandwidth > 0
    for track in package.video:
        assert track.iframe_playlist in files


def test_package_writes_downloads_beside_the_tree(packaged: dict[Source, Packaged]) -> None:
    kinds = {}
    for source, result in packaged.items():
        kinds[source] = [download.kind for download in result.package.downloads]
        for download in result.package.downloads:
            assert download == PackagedDownload(
                kind=download.kind, file=download_path(download.kind)
            )
            assert download.file not in result.package.files
            assert (result.out / download.file).stat().st_size > 0

    # AUDIO is skipped for a source without sound.
    assert kinds == {
        Source.CLIP: [DownloadKind.HIGHEST, DownloadKind.AUDIO],
        Source.SILENT: [DownloadKind.HIGHEST],
    }


def test_package_carries_the_plan_captions(packaged: dict[Source, Packaged]) -> None:
    result = packaged[Source.CLIP]
    [planned] = plan_captions((CAPTION,))

    [caption] = result.package.captions
    assert (caption.id, caption.language, caption.name, caption.default, caption.origin) == (
        planned.id, CAPTION.language, CAPTION.name, True, CaptionOrigin.SIDECAR,
    )  # fmt: skip
    assert f"{caption.directory}/{MEDIA_PLAYLIST}" in result.package.files
    assert caption.segment_count >= 1
    assert packaged[Source.SILENT].package.captions == ()


@pytest.mark.parametrize("source", [Source.CLIP, Source.SILENT])
def test_package_reports_progress_up_to_1(packaged: dict[Source, Packaged], source: Source) -> None:
    fractions = packaged[source].fractions

    assert fractions
    assert fractions == sorted(fractions)
    assert all(0.0 < value <= 1.0 for value in fractions)
    assert fractions[-1] == 1.0


# --- cancellation ------------------------------------------------------------------------


async def test_cancelling_package_hls_stops_its_work(
    factory: MediaWorldFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    work_dir = tmp_path / "cancelled-work"
    started = asyncio.Event()
    async with factory(Source.LONG, request) as world:
        task = asyncio.create_task(
            world.toolchain.package_hls(
                world.source, plan_for(Source.LONG), work_dir, tmp_path / "out",
                lambda _: started.set(),
            )
        )  # fmt: skip
        async with asyncio.timeout(scaled(30.0)):
            await started.wait()

        task.cancel()
        async with asyncio.timeout(scaled(5.0)):
            with pytest.raises(asyncio.CancelledError):
                await task

    assert task.cancelled()
    assert processes_naming(str(work_dir)) == []
    assert not (tmp_path / "out" / MASTER_PLAYLIST).exists()
