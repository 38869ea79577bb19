"""Reading ffprobe's JSON into a MediaProbe (display geometry, duration, frame rate, audio),
and telling apart the sources that can never be video."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from attrs import frozen

from vylux_adapters.media.ffprobe_json import (
    finite_float,
    json_list,
    read_probe_document,
    seconds,
)
from vylux_adapters.media.process import capture_tool
from vylux_core.errors import MediaToolFailed, UnsupportedMedia
from vylux_core.media.dynamic_range import dynamic_range_of
from vylux_core.media.ladder import SourceGeometry, normalize_rotation
from vylux_core.media.source_sniff import not_a_video
from vylux_core.ports.media_toolchain import MediaProbe

DEFAULT_FRAME_RATE: Final = 25.0
# Above this a "rate" is a timebase artefact (VFR files report r_frame_rate 90000/1), and a
# GOP computed from it would never place a keyframe.
MAX_FRAME_RATE: Final = 240.0

# Codecs of still-picture formats, with the type a client knows the picture by. FFmpeg
# opens a lone JPEG or PNG as a one-frame "video"; transcoding it makes a ladder of a
# single 0.04 s frame. With more than one frame (an MJPEG camera clip, an animated GIF)
# the same codecs are video.
STILL_IMAGE_TYPES: Final[Mapping[str, str]] = {
    "mjpeg": "image/jpeg",
    "png": "image/png",
    "apng": "image/apng",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "jpeg2000": "image/jp2",
    "jpegls": "image/jls",
    "jpegxl": "image/jxl",
    "qoi": "image/qoi",
    "pam": "image/x-portable-arbitrarymap",
    "pbm": "image/x-portable-bitmap",
    "pgm": "image/x-portable-graymap",
    "ppm": "image/x-portable-pixmap",
    "targa": "image/x-tga",
    "psd": "image/vnd.adobe.photoshop",
    "exr": "image/x-exr",
    "hdr": "image/vnd.radiance",
    "dds": "image/vnd-ms.dds",
    "sgi": "image/sgi",
    "pcx": "image/x-pcx",
    "xbm": "image/x-xbitmap",
    "xpm": "image/x-xpixmap",
    "xwd": "image/x-xwindowdump",
    "sunrast": "image/x-sun-raster",
}

# ffprobe reads headers only; a minute means a stuck filesystem, not a slow file.
PROBE_TIMEOUT_SECONDS: Final = 60.0
PROBE_OUTPUT_LIMIT: Final = 16 * 1024 * 1024


async def run_ffprobe(ffprobe: str, source: Path) -> bytes:
    """ffprobe's JSON about ``source``, a file of ours in scratch space.

    Raises ``MediaToolFailed`` when the file is gone or ffprobe hangs (infrastructure
    faults), ``UnsupportedMedia`` when ffprobe cannot open it as media.
    """
    if not await asyncio.to_thread(source.is_file):
        # Our own download went missing: an infrastructure fault, not the client's input.
        raise MediaToolFailed(f"probe: source file not found: {source.name}")
    argv = [ffprobe, *probe_args(str(source))]
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            return await capture_tool(
                "ffprobe", argv, limit=PROBE_OUTPUT_LIMIT, exit_error=UnsupportedMedia
            )
    except TimeoutError as exc:
        raise MediaToolFailed(f"ffprobe: timed out after {PROBE_TIMEOUT_SECONDS:g} s") from exc
    except UnsupportedMedia as exc:
        # ffprobe exits non-zero on a local file it cannot open as media; its reason
        # names our scratch path, which means nothing to the client.
        reason = str(exc).replace(str(source), source.name)
        raise UnsupportedMedia(f"source is not a media file ({reason})") from exc


def probe_args(source: str) -> list[str]:
    """ffprobe options (no binary) for :func:`parse_probe`."""
    return [
        "-v", "error", "-protocol_whitelist", "file,pipe",  # as ffmpeg: local files only
        "-print_format", "json", "-show_streams", "-show_format", source,
    ]  # fmt: skip


# Text subtitle codecs FFmpeg converts to WebVTT; bitmap subtitles (PGS, DVD, DVB) are not
# text and are left out.
TEXT_SUBTITLE_CODECS: Final = frozenset({"mov_text", "subrip", "webvtt", "ass", "ssa", "text"})


@frozen(kw_only=True)
class ProbedTextStream:
    """A text subtitle stream: ``position`` counts subtitle streams (FFmpeg's ``0:s:N``);
    ``language`` and ``title`` are the stream's tags, when it has them."""

    position: int
    codec: str
    language: str | None
    title: str | None
    default: bool


@frozen(kw_only=True)
class ProbedSource:
    """The port's probe plus the video stream's own end, which covers must stay inside.

    The container's duration includes audio that may run past the last picture, so a
    cover clamped to it could seek beyond every frame.
    """

    media: MediaProbe
    video_seconds: float
    codec: str
    """The video stream's codec as FFmpeg names it (``h264``, ``av1``), for the decoder
    check; the stream's four-character tag when FFmpeg does not know the codec."""
    text_streams: tuple[ProbedTextStream, ...] = ()


def parse_probe(raw: bytes) -> ProbedSource:
    """Raises ``UnsupportedMedia`` when the file has no usable video stream or is one
    still picture: bad input a retry cannot fix, unlike a failing tool
    (``MediaToolFailed``)."""
    document = read_probe_document(raw)
    video = next((s for s in document.streams if _is_video(s)), None)
    if video is None:
        raise UnsupportedMedia("source has no video stream")
    codec = _codec(video)
    if codec in STILL_IMAGE_TYPES and _frame_count(video) <= 1:
        raise UnsupportedMedia(not_a_video(STILL_IMAGE_TYPES[codec]))
    width, height = _int(video.get("width")), _int(video.get("height"))
    if width <= 0 or height <= 0:
        raise UnsupportedMedia(f"source has invalid video dimensions {width}x{height}")
    rotation = _rotation(video)
    display_width, display_height = SourceGeometry(width, height, rotation).display_size()
    stream_seconds = seconds(video.get("duration"))
    duration = document.format_seconds or stream_seconds or 0.0
    media = MediaProbe(
        width=display_width,
        height=display_height,
        rotation=normalize_rotation(rotation),
        duration_seconds=duration,
        frame_rate=_frame_rate(video),
        has_audio=any(s.get("codec_type") == "audio" for s in document.streams),
        dynamic_range=dynamic_range_of(_text(video.get("color_transfer"))),
    )
    return ProbedSource(
        media=media, video_seconds=stream_seconds or duration, codec=codec,
        text_streams=_text_streams(document.streams),
    )  # fmt: skip


def _text_streams(streams: list[Mapping[str, Any]]) -> tuple[ProbedTextStream, ...]:
    subtitles = [s for s in streams if s.get("codec_type") == "subtitle"]
    found = []
    for position, stream in enumerate(subtitles):
        codec = stream.get("codec_name")
        if codec not in TEXT_SUBTITLE_CODECS:
            continue
        tags = stream.get("tags")
        tags = tags if isinstance(tags, Mapping) else {}
        disposition = stream.get("disposition")
        found.append(
            ProbedTextStream(
                position=position, codec=str(codec), language=_text(tags.get("language")),
                title=_text(tags.get("title")),
                default=isinstance(disposition, Mapping) and disposition.get("default") == 1,
            )
        )  # fmt: skip
    return tuple(found)


def _codec(video: Mapping[str, Any]) -> str:
    name = video.get("codec_name")
    if isinstance(name, str) and name and name != "none":
        return name
    tag = video.get("codec_tag_string")
    return tag if isinstance(tag, str) and tag else "unknown"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _frame_count(video: Mapping[str, Any]) -> int:
    """Frames the container declares; the image demuxers (``jpeg_pipe``, ``png_pipe`` …)
    declare neither frames nor a duration, which counts as one picture."""
    declared = video.get("nb_frames")
    if isinstance(declared, str) and declared.isdigit() and int(declared) > 0:
        return int(declared)
    # Unknown ("0" is what some muxers write): a stream with a length plays over time.
    return 2 if seconds(video.get("duration")) > 0 else 1


def _is_video(stream: Mapping[str, Any]) -> bool:
    # Cover art in a music file is a one-frame "video" stream flagged attached_pic.
    disposition = stream.get("disposition")
    attached = isinstance(disposition, Mapping) and disposition.get("attached_pic") == 1
    return stream.get("codec_type") == "video" and not attached


def _rotation(video: Mapping[str, Any]) -> float:
    # First non-zero display-matrix rotation, else the legacy "rotate" tag.
    for side_data in json_list(video, "side_data_list"):
        if isinstance(side_data, Mapping):
            value = finite_float(side_data.get("rotation"))
            if value:
                return value
    tags = video.get("tags")
    return finite_float(tags.get("rotate")) if isinstance(tags, Mapping) else 0.0


def _frame_rate(video: Mapping[str, Any]) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        rate = _ratio(video.get(key))
        if 0 < rate <= MAX_FRAME_RATE:
            return rate
    return DEFAULT_FRAME_RATE


def _ratio(value: object) -> float:
    # ffprobe writes rates as "30000/1001"; "0/0" means unknown.
    if not isinstance(value, str):
        return 0.0
    try:
        return float(Fraction(value))
    except (ValueError, ZeroDivisionError):
        return 0.0


def _int(value: object) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0
