"""FfmpegMediaToolchain: the MediaToolchain port on FFmpeg, ffprobe and Shaka Packager."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs

from vylux_adapters.media.binaries import MediaBinaries
from vylux_adapters.media.captions import extract_embedded, write_caption_inputs
from vylux_adapters.media.colour import tone_map_filter
from vylux_adapters.media.decoders import DECODERS_ARGS, parse_decoders, require_decoder
from vylux_adapters.media.downloads import plan_downloads
from vylux_adapters.media.encode import EncodeRun, plan_encodes
from vylux_adapters.media.hls_output import (
    describe_captions,
    describe_package,
    finish_dash_manifest,
)
from vylux_adapters.media.packager_args import TextTrack, packager_args, packager_encryption
from vylux_adapters.media.preview import render_gif, render_webp
from vylux_adapters.media.probe import (
    PROBE_TIMEOUT_SECONDS,
    ProbedSource,
    parse_probe,
    run_ffprobe,
)
from vylux_adapters.media.process import (
    FFMPEG_BASE_ARGS,
    NO_METADATA_ARGS,
    capture_tool,
    run_tool,
    single_error,
)
from vylux_adapters.media.progress import CombinedProgress, ProgressLines
from vylux_core.errors import InvalidOptions, MediaToolFailed
from vylux_core.jobs.options import EffectivePreview
from vylux_core.media.captions import PlannedCaption, plan_captions
from vylux_core.media.storyboard import StoryboardLayout
from vylux_core.ports.media_toolchain import (
    HlsPackage,
    HlsPlan,
    MediaProbe,
    ProgressCallback,
)

# `ffmpeg -decoders` prints ~60 KB.
DECODERS_OUTPUT_LIMIT: Final = 1024 * 1024
# The last frame starts one frame before the end; half a frame more absorbs the timestamp
# jitter of variable-frame-rate sources, where seeking to the very end finds no picture.
COVER_END_MARGIN_FRAMES: Final = 1.5


class FfmpegMediaToolchain:
    """Runs the tools as child processes; ``threads`` caps the CPU threads of one call
    (default: all cores), ``concurrent_encodes`` lets the codec groups run side by side."""

    def __init__(
        self,
        *,
        binaries: MediaBinaries,
        threads: int | None = None,
        concurrent_encodes: bool = True,
    ) -> None:
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        self._binaries = binaries
        self._threads = threads
        self._concurrent = concurrent_encodes
        # Read from the binary on first use; two first probes at once both read it
        # (the answers are equal), which costs less than a lock bound to one loop.
        self._decoders: Mapping[str, frozenset[str]] | None = None

    async def probe(self, source: Path) -> MediaProbe:
        """Display size (rotation applied), duration, frame rate and audio presence.

        A source that can never become video raises ``UnsupportedMedia`` (see the port):
        one ffprobe cannot read, without a video stream, a still picture, or a codec the
        configured ffmpeg cannot decode.
        """
        return (await self._probe(source)).media

    async def extract_cover(self, source: Path, timestamp_sec: float, destination: Path) -> None:
        """``timestamp_sec`` is clamped into the video, so a late timestamp gives the last
        frame rather than an empty file. The JPEG carries no metadata: FFmpeg copies
        none and writes no encoder comment, and a frame with an ICC profile (a
        still-image source) is converted to sRGB without it."""
        probed = await self._probe(source)
        timestamp = cover_timestamp(probed, timestamp_sec)
        await asyncio.to_thread(_prepare, destination)
        args = [
            *FFMPEG_BASE_ARGS, "-y", "-ss", f"{timestamp:.3f}", "-i", str(source),
            "-map", "0:v:0", "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "2",
            *_cover_filter(probed), *NO_METADATA_ARGS,
            "-update", "1", "-f", "image2", str(destination),
        ]  # fmt: skip
        await run_tool("ffmpeg", [self._binaries.ffmpeg, *args])
        await asyncio.to_thread(_require_output, destination, "cover")
        await asyncio.to_thread(_cover_to_srgb, destination)

    async def render_preview(
        self, source: Path, preview: EffectivePreview, destination: Path
    ) -> None:
        if preview.format not in ("webp", "gif"):
            raise InvalidOptions(f"invalid options: unsupported preview format {preview.format!r}")
        probed = await self._probe(source)
        await asyncio.to_thread(_prepare, destination)
        render = render_gif if preview.format == "gif" else render_webp
        await render(self._binaries.ffmpeg, source, probed, preview, destination)
        await asyncio.to_thread(_require_output, destination, "preview")

    async def render_storyboard(
        self, source: Path, layout: StoryboardLayout, destination: Path
    ) -> None:
        """One decode: ``fps`` keeps, for each tile, the last frame that maps onto its
        start time; with ``round=up`` that is the frame showing at the start (``near``
        would keep the one half an interval later). ``tile`` lays them out row by row
        (a last row left short is black)."""
        probed = await self._probe(source)
        await asyncio.to_thread(_prepare, destination)
        filters = [
            tone_map_filter(probed.media.dynamic_range),
            f"fps=fps=1/{layout.interval:.6f}:start_time=0:round=up",
            f"scale={layout.tile_width}:{layout.tile_height}:flags=bicubic,setsar=1",
            f"tile={layout.columns}x{layout.rows}",
        ]
        args = [
            *FFMPEG_BASE_ARGS, "-y", "-i", str(source), "-map", "0:v:0",
            "-vf", ",".join(f for f in filters if f), "-frames:v", "1",
            "-c:v", "mjpeg", "-q:v", "4", *NO_METADATA_ARGS,
            "-update", "1", "-f", "image2", str(destination),
        ]  # fmt: skip
        await run_tool("ffmpeg", [self._binaries.ffmpeg, *args])
        await asyncio.to_thread(_require_output, destination, "storyboard")

    async def package_hls(
        self,
        source: Path,
        plan: HlsPlan,
        work_dir: Path,
        output_dir: Path,
        on_progress: ProgressCallback | None = None,
    ) -> HlsPackage:
        """Encodes go to ``work_dir`` (left for the caller to delete), the HLS tree to
        ``output_dir``, which should start empty: every file in it is listed."""
        if not plan.variants:
            raise ValueError("the plan has no variants")
        # Built first: a bad encryption config must fail before minutes of encoding.
        self._packager_argv(plan, work_dir, output_dir, ())
        # So is a source that can never be video: one permanent error, not a failed encode.
        probed = await self._probe(source)
        duration = probed.media.duration_seconds
        await asyncio.to_thread(_make_dirs, work_dir, output_dir)
        embedded = await extract_embedded(
            self._binaries.ffmpeg, source, probed.text_streams, work_dir / "embedded"
        )
        captions = plan_captions((*plan.captions, *embedded))
        await asyncio.to_thread(write_caption_inputs, work_dir, captions)
        package_argv, secrets = self._packager_argv(plan, work_dir, output_dir, captions)
        budget = self._threads or os.cpu_count() or 1
        concurrent = self._concurrent and budget > 1
        runs = plan_encodes(source, plan, work_dir, budget=budget, concurrent=concurrent)
        progress = None
        if on_progress is not None:
            weights = {run.step: run.cost for run in runs}
            progress = CombinedProgress(callback=on_progress, weights=weights)
        await self._encode_all(runs, progress, duration, concurrent=concurrent)
        await run_tool("packager", package_argv, secrets=secrets)
        await asyncio.to_thread(
            finish_dash_manifest, output_dir, encrypted=plan.encryption is not None
        )
        package = await asyncio.to_thread(describe_package, output_dir, plan)
        packaged_captions = await asyncio.to_thread(describe_captions, output_dir, captions)
        package = attrs.evolve(package, captions=packaged_captions)
        downloads = []
        for download, args in plan_downloads(plan, work_dir, output_dir):
            await asyncio.to_thread(_prepare, output_dir / download.file)
            argv = [self._binaries.ffmpeg, *FFMPEG_BASE_ARGS, *args]
            try:
                await run_tool("ffmpeg", argv)
            except MediaToolFailed as exc:
                raise MediaToolFailed(f"remux download {download.kind}: {exc}") from exc
            await asyncio.to_thread(_require_output, output_dir / download.file, "download")
            downloads.append(download)
        package = attrs.evolve(package, downloads=tuple(downloads))
        if progress is not None:
            progress.finish()
        return package

    async def _probe(self, source: Path) -> ProbedSource:
        probed = parse_probe(await run_ffprobe(self._binaries.ffprobe, source))
        require_decoder(probed.codec, await self._video_decoders())
        return probed

    async def _video_decoders(self) -> Mapping[str, frozenset[str]]:
        if self._decoders is None:
            argv = [self._binaries.ffmpeg, *DECODERS_ARGS]
            try:
                async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                    listing = await capture_tool("ffmpeg", argv, limit=DECODERS_OUTPUT_LIMIT)
            except TimeoutError as exc:
                raise MediaToolFailed(
                    f"ffmpeg -decoders: timed out after {PROBE_TIMEOUT_SECONDS:g} s"
                ) from exc
            self._decoders = parse_decoders(listing.decode("utf-8", errors="replace"))
        return self._decoders

    async def _encode_all(
        self,
        runs: list[EncodeRun],
        progress: CombinedProgress | None,
        duration: float,
        *,
        concurrent: bool,
    ) -> None:
        if not concurrent:
            for run in runs:
                await self._encode(run, progress, duration)
            return
        try:
            async with asyncio.TaskGroup() as tasks:
                for run in runs:
                    tasks.create_task(self._encode(run, progress, duration))
        except BaseExceptionGroup as group:
            # One failed run cancels (and kills) the others; report the failure itself.
            raise single_error(group) from None

    async def _encode(
        self, run: EncodeRun, progress: CombinedProgress | None, duration: float
    ) -> None:
        argv = [self._binaries.ffmpeg, *FFMPEG_BASE_ARGS, "-nostats"]
        on_stdout = None
        if progress is not None:
            argv += ["-progress", "pipe:1"]
            on_stdout = ProgressLines(progress.step_seconds(run.step, duration)).feed
        try:
            await run_tool("ffmpeg", [*argv, *run.args], on_stdout=on_stdout)
        except MediaToolFailed as exc:
            raise MediaToolFailed(f"{run.step}: {exc}") from exc
        if progress is not None:
            progress.update(run.step, 1.0)

    def _packager_argv(
        self,
        plan: HlsPlan,
        work_dir: Path,
        output_dir: Path,
        captions: Sequence[PlannedCaption],
    ) -> tuple[list[str], tuple[str, ...]]:
        encryption, secrets = packager_encryption(plan.encryption)
        try:
            args = packager_args(
                str(work_dir),
                str(output_dir),
                plan.variants,
                has_audio=plan.include_audio,
                encryption=encryption,
                text_tracks=[
                    TextTrack(caption.id, caption.text.language, caption.text.name)
                    for caption in captions
                ],
                default_text_language=next(
                    (c.text.language for c in captions if c.text.default), None
                ),
            )
        except ValueError as exc:
            raise MediaToolFailed(f"package hls: {exc}") from exc
        # --quiet drops Shaka's INFO lines, so a failure's stderr tail shows the error.
        return [self._binaries.packager, "--quiet", *args], secrets


def cover_timestamp(probed: ProbedSource, requested: float) -> float:
    """``requested`` clamped into [0, start of the last frame]; unchanged if the length is
    unknown."""
    start = max(0.0, requested)
    end = probed.video_seconds
    if end <= 0:
        return start
    last = max(0.0, end - COVER_END_MARGIN_FRAMES / probed.media.frame_rate)
    return min(start, last)


def _cover_filter(probed: ProbedSource) -> list[str]:
    # A JPEG is SDR: an HDR frame is tone-mapped like the ladder's.
    tone_map = tone_map_filter(probed.media.dynamic_range)
    return ["-vf", tone_map] if tone_map else []


# What FFmpeg's ``-q:v 2`` gives, roughly: the rare re-encode should not look worse.
COVER_REENCODE_QUALITY: Final = 92


def _cover_to_srgb(destination: Path) -> None:
    # pyvips is imported on first use, as in ``preview``.
    import pyvips  # type: ignore[import-untyped]

    from vylux_adapters.vips.colour import convert_jpeg_file_to_srgb

    try:
        convert_jpeg_file_to_srgb(destination, COVER_REENCODE_QUALITY)
    except pyvips.Error as exc:
        raise MediaToolFailed(f"cover colour conversion: {str(exc).strip()[:500]}") from exc


def _make_dirs(*paths: Path) -> None:
    for path in paths:
        path.mkdir(parents=True, exist_ok=True)


def _prepare(destination: Path) -> None:
    # A stale file from an earlier attempt must not pass for this run's output.
    destination.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        destination.unlink()


def _require_output(destination: Path, what: str) -> None:
    if not destination.is_file() or destination.stat().st_size == 0:
        raise MediaToolFailed(f"ffmpeg: the {what} is empty")
