"""Animated preview clips: GIF straight from FFmpeg, WebP from FFmpeg frames via libvips."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Final

from vylux_adapters.media.colour import tone_map_filter
from vylux_adapters.media.probe import ProbedSource
from vylux_adapters.media.process import FFMPEG_BASE_ARGS, NO_METADATA_ARGS, run_tool
from vylux_core.errors import MediaToolFailed
from vylux_core.jobs.options import EffectivePreview

WEBP_QUALITY: Final = 70
# libwebp effort 0-6; 4 is libvips' own default balance of encode time against size.
WEBP_EFFORT: Final = 4
_RGB_BANDS: Final = 3


async def render_gif(
    ffmpeg: str, source: Path, probed: ProbedSource, preview: EffectivePreview, destination: Path
) -> None:
    """One pass: palettegen/paletteuse build a palette from the clip itself, whose colours
    FFmpeg's fixed default palette would band (D110).

    ``split`` holds every frame until palettegen has seen the last one, so memory grows
    with frames x width x height x 4 bytes (about 15 MB for the 480 px, 3 s, 10 fps default).
    """
    height = preview_height(probed, preview.width)
    graph = (
        f"{_frames_filter(probed, preview, height)},split[a][b];[a]palettegen[p];[b][p]paletteuse"
    )
    args = [*_clip_input(source, probed, preview), "-vf", graph, "-loop", "0"]
    await run_tool("ffmpeg", [ffmpeg, *args, "-f", "gif", str(destination)])


async def render_webp(
    ffmpeg: str, source: Path, probed: ProbedSource, preview: EffectivePreview, destination: Path
) -> None:
    """FFmpeg here has no WebP encoder: it writes raw RGB frames, libvips encodes them.

    The frames go to a scratch file next to ``destination`` rather than through a pipe into
    memory: a large preview (1920 px, 60 fps, 30 s) is gigabytes of raw RGB, and libvips
    maps the file instead of reading it into RAM.
    """
    height = preview_height(probed, preview.width)
    frames_path = destination.with_name(destination.name + ".rgb")
    frames = _frames_filter(probed, preview, height)
    args = [*_clip_input(source, probed, preview), "-vf", frames]
    args += ["-f", "rawvideo", "-pix_fmt", "rgb24", str(frames_path)]
    try:
        await run_tool("ffmpeg", [ffmpeg, *args])
        await asyncio.to_thread(
            _save_webp, frames_path, destination, preview.width, height, preview.fps
        )
    finally:
        await asyncio.to_thread(_discard, frames_path)


def preview_height(probed: ProbedSource, width: int) -> int:
    """Even height for ``width`` at the source's display aspect ratio (at least 2)."""
    media = probed.media
    height = round(width * media.height / media.width)
    return max(2, height - height % 2)


def preview_start(probed: ProbedSource, start_sec: float) -> float:
    """``start_sec``, or 0 when the clip would start after the last frame.

    A short source then still yields a (shorter) preview instead of an empty file.
    """
    end = probed.video_seconds
    if end <= 0:
        return start_sec  # unknown length: let FFmpeg decide
    last_frame = end - 1.0 / probed.media.frame_rate
    return start_sec if start_sec < last_frame else 0.0


def _clip_input(source: Path, probed: ProbedSource, preview: EffectivePreview) -> list[str]:
    # Input-side -ss/-t: seek before decoding and stop decoding at the clip's end.
    start = preview_start(probed, preview.start_sec)
    return [
        *FFMPEG_BASE_ARGS, "-y",
        "-ss", f"{start:.3f}", "-t", f"{preview.duration:.3f}", "-i", str(source),
        "-map", "0:v:0", "-an", "-sn", "-dn", *NO_METADATA_ARGS,
    ]  # fmt: skip


def _frames_filter(probed: ProbedSource, preview: EffectivePreview, height: int) -> str:
    # Explicit height from the probe keeps GIF and WebP the same size; setsar=1 makes an
    # anamorphic source come out with square pixels at that size. An HDR source is
    # tone-mapped first: GIF and WebP are SDR (sRGB) formats.
    frames = f"fps={preview.fps},scale={preview.width}:{height}:flags=lanczos,setsar=1"
    tone_map = tone_map_filter(probed.media.dynamic_range)
    return f"{tone_map},{frames}" if tone_map else frames


def _save_webp(frames: Path, destination: Path, width: int, height: int, fps: int) -> None:
    count = frames.stat().st_size // (width * height * _RGB_BANDS) if frames.exists() else 0
    if count == 0:
        raise MediaToolFailed("ffmpeg: the preview clip has no frames")
    import pyvips  # type: ignore[import-untyped]

    from vylux_adapters.vips.export import metadata_options

    try:
        # Raw frames one after another are already the vertical strip an animated image is
        # in libvips (what arrayjoin(across=1) would build), so no per-frame join is needed.
        strip = pyvips.Image.rawload(
            str(frames), width, height * count, _RGB_BANDS, format="uchar", interpretation="srgb"
        ).copy()
        strip.set_type(pyvips.GValue.gint_type, "page-height", height)
        strip.set_type(pyvips.GValue.array_int_type, "delay", [round(1000 / fps)] * count)
        strip.set_type(pyvips.GValue.gint_type, "loop", 0)
        strip.webpsave(str(destination), Q=WEBP_QUALITY, effort=WEBP_EFFORT, **metadata_options())
    except pyvips.Error as exc:
        raise MediaToolFailed(f"webp: {str(exc).strip()[:500]}") from exc


def _discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
