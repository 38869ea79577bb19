"""Reading ffprobe's JSON into a MediaProbe (display geometry, duration, frame rate, audio)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Final

from attrs import frozen

from vylux_core.errors import UnprocessableImage
from vylux_core.ladder import SourceGeometry, normalize_rotation
from vylux_core.ports.media_toolchain import MediaProbe

DEFAULT_FRAME_RATE: Final = 25.0
# Above this a "rate" is a timebase artefact (VFR files report r_frame_rate 90000/1), and a
# GOP computed from it would never place a keyframe.
MAX_FRAME_RATE: Final = 240.0


def probe_args(source: str) -> list[str]:
    """ffprobe options (no binary) for :func:`parse_probe`."""
    return [
        "-v", "error", "-protocol_whitelist", "file,pipe",  # as ffmpeg: local files only
        "-print_format", "json", "-show_streams", "-show_format", source,
    ]  # fmt: skip


@frozen(kw_only=True)
class ProbedSource:
    """The port's probe plus the video stream's own end, which covers must stay inside.

    The container's duration includes audio that may run past the last picture, so a
    cover clamped to it could seek beyond every frame.
    """

    media: MediaProbe
    video_seconds: float


def parse_probe(raw: bytes) -> ProbedSource:
    """Raises ``UnprocessableImage`` when the file has no usable video stream: that is bad
    input a retry cannot fix, unlike a failing tool (``MediaToolFailed``)."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise UnprocessableImage("probe: unreadable ffprobe output") from exc
    streams = [s for s in _list(document, "streams") if isinstance(s, Mapping)]
    video = next((s for s in streams if _is_video(s)), None)
    if video is None:
        raise UnprocessableImage("no video stream found")
    width, height = _int(video.get("width")), _int(video.get("height"))
    if width <= 0 or height <= 0:
        raise UnprocessableImage(f"invalid video dimensions {width}x{height}")
    rotation = _rotation(video)
    display_width, display_height = SourceGeometry(width, height, rotation).display_size()
    container = document.get("format") if isinstance(document, Mapping) else None
    format_seconds = _seconds(container.get("duration") if isinstance(container, Mapping) else None)
    stream_seconds = _seconds(video.get("duration"))
    duration = format_seconds or stream_seconds or 0.0
    media = MediaProbe(
        width=display_width,
        height=display_height,
        rotation=normalize_rotation(rotation),
        duration_seconds=duration,
        frame_rate=_frame_rate(video),
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
    )
    return ProbedSource(media=media, video_seconds=stream_seconds or duration)


def _is_video(stream: Mapping[str, Any]) -> bool:
    # Cover art in a music file is a one-frame "video" stream flagged attached_pic.
    disposition = stream.get("disposition")
    attached = isinstance(disposition, Mapping) and disposition.get("attached_pic") == 1
    return stream.get("codec_type") == "video" and not attached


def _rotation(video: Mapping[str, Any]) -> float:
    # First non-zero display-matrix rotation, else the legacy "rotate" tag (§4.4(a)).
    for side_data in _list(video, "side_data_list"):
        if isinstance(side_data, Mapping):
            value = _float(side_data.get("rotation"))
            if value:
                return value
    tags = video.get("tags")
    return _float(tags.get("rotate")) if isinstance(tags, Mapping) else 0.0


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


def _seconds(value: object) -> float:
    seconds = _float(value)
    return seconds if seconds > 0 else 0.0


def _float(value: object) -> float:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _int(value: object) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(container: object, key: str) -> list[Any]:
    value = container.get(key) if isinstance(container, Mapping) else None
    return value if isinstance(value, list) else []
