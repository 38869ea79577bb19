"""The HLS transcode ladder as data: which renditions to encode (rungs, sizes, CRFs,
codecs, bandwidth estimates), the audio track, and the layout of the packaged tree.

Pure values and functions; the media adapter turns them
into FFmpeg and Shaka Packager options.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from attrs import frozen

SEGMENT_SECONDS: Final = 6
# Keyframe every 2 s: a 6 s segment then holds exactly three GOPs, and the packager can cut
# every rendition at the same instants because each keyframe lands on a shared boundary.
KEYFRAME_SECONDS: Final = 2

MASTER_PLAYLIST: Final = "master.m3u8"
# The DASH manifest the same packager run writes beside the master playlist, over the same
# CMAF segments.
DASH_MANIFEST: Final = "manifest.mpd"
MEDIA_PLAYLIST: Final = "playlist.m3u8"
# Each video track's I-frame playlist (EXT-X-I-FRAME-STREAM-INF in the master): byte
# ranges of the keyframes inside the same media segments, for native scrubbing.
IFRAME_PLAYLIST: Final = "iframes.m3u8"
INIT_SEGMENT: Final = "init.mp4"
# Shaka's $Number$ is 1-based and unpadded: seg_1.m4s, seg_2.m4s, ...
SEGMENT_TEMPLATE: Final = "seg_$Number$.m4s"


class VideoCodec(enum.Enum):
    AV1 = "av1"
    H264 = "h264"


@frozen
class Rung:
    """One step of the ladder: a bounding box and the CRF each codec uses inside it."""

    name: int  # the box's short side, used in labels (r1080, r720, ...)
    box_width: int
    box_height: int
    av1_crf: int
    h264_crf: int

    def crf(self, codec: VideoCodec) -> int:
        return self.av1_crf if codec is VideoCodec.AV1 else self.h264_crf


# Descending. Boxes are landscape; a portrait source uses each box turned a quarter. The
# 1440 and 2160 rungs are only used when a job's `max_resolution` asks for them.
RUNGS: Final = (
    Rung(2160, 3840, 2160, av1_crf=26, h264_crf=20),
    Rung(1440, 2560, 1440, av1_crf=28, h264_crf=21),
    Rung(1080, 1920, 1080, av1_crf=30, h264_crf=22),
    Rung(720, 1280, 720, av1_crf=32, h264_crf=23),
    Rung(480, 854, 480, av1_crf=34, h264_crf=24),
    Rung(360, 640, 360, av1_crf=36, h264_crf=26),
    Rung(240, 426, 240, av1_crf=38, h264_crf=28),
)

# Job option `max_resolution` → the highest rung it allows; "1080p" is the default.
MAX_RESOLUTIONS: Final = {"1080p": 1080, "1440p": 1440, "2160p": 2160}
DEFAULT_MAX_RESOLUTION: Final = "1080p"

DEFAULT_CODECS: Final = (VideoCodec.AV1, VideoCodec.H264)


def _round_half_away(value: float) -> int:
    # Halves round away from zero; Python's round() is banker's rounding and would turn
    # 202.5 into 202 instead of 203 (portrait r720 must come out 406 wide).
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def normalize_rotation(value: float) -> int:
    """Display rotation in {0, 90, 180, 270}: round, wrap into [0, 360), else 0."""
    if not math.isfinite(value):
        return 0
    degrees = _round_half_away(value) % 360  # Python's % already lands in [0, 360)
    return degrees if degrees % 90 == 0 else 0


@frozen
class SourceGeometry:
    """Coded size of the first video stream plus its rotation metadata, as probed."""

    width: int
    height: int
    rotation: float = 0.0

    def display_size(self) -> tuple[int, int]:
        """Size as shown to the viewer: a quarter turn swaps width and height."""
        if normalize_rotation(self.rotation) in (90, 270):
            return self.height, self.width
        return self.width, self.height


# Resolved height → H.264 bandwidth estimate, first match wins.
_H264_BANDWIDTH: Final = (
    (1080, 5_000_000),
    (720, 2_500_000),
    (480, 1_000_000),
    (360, 500_000),
    (240, 300_000),
)
_H264_BANDWIDTH_FLOOR: Final = 200_000


def bandwidth_estimate(codec: VideoCodec, height: int) -> int:
    """Guessed peak bit/s for a rendition of ``height``; AV1 is 60 % of H.264.

    Keyed on the resolved height, so a 1280×534 rendition counts as the ≥480 tier. Only used
    when the packager's own measurement is unavailable.
    """
    h264 = next((bw for min_h, bw in _H264_BANDWIDTH if height >= min_h), _H264_BANDWIDTH_FLOOR)
    return h264 * 3 // 5 if codec is VideoCodec.AV1 else h264


@frozen
class Variant:
    """One rendition to encode and package."""

    label: str  # r{rung}_{codec}, also the directory and intermediate file name
    codec: VideoCodec
    rung: int
    width: int
    height: int
    crf: int
    bandwidth_estimate: int


def _even_at_most(value: int) -> int:
    return 2 if value <= 2 else value - value % 2


def _even_nearest_at_most(value: float, limit: int) -> int:
    even_limit = _even_at_most(limit)
    if even_limit <= 2:
        return 2
    nearest = _round_half_away(value / 2) * 2
    if nearest <= 2:
        return 2
    return min(nearest, even_limit)


def _fit(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    # Limits are the smaller of source and box, so nothing is ever upscaled. The side that
    # binds (by aspect ratio) is taken exactly; the other follows the aspect ratio, rounded to
    # the nearest even value. The min() in _even_nearest_at_most keeps the derived side
    # inside its limit, so no second clamp is needed.
    limit_w, limit_h = min(src_w, box_w), min(src_h, box_h)
    aspect = src_w / src_h
    if aspect >= box_w / box_h:
        width = _even_at_most(limit_w)
        return width, _even_nearest_at_most(width / aspect, limit_h)
    height = _even_at_most(limit_h)
    return _even_nearest_at_most(height * aspect, limit_w), height


def _box(rung: Rung, portrait: bool) -> tuple[int, int]:
    return (rung.box_height, rung.box_width) if portrait else (rung.box_width, rung.box_height)


def _rungs_for(width: int, height: int, max_rung: int) -> tuple[tuple[Rung, tuple[int, int]], ...]:
    # Orientation-aware (D47): boxes turn for portrait sources, a
    # rung is kept when the source reaches its box on either edge, and the smallest box that
    # holds the whole source carries the source at its own size. So 1920×800 and 1918×1078
    # keep r1080, and portrait 1080×1920 gets a full 1080×1920 top rung.
    portrait = height > width
    allowed = [(rung, _box(rung, portrait)) for rung in RUNGS if rung.name <= max_rung]
    holding = [rung for rung, (box_w, box_h) in allowed if width <= box_w and height <= box_h]
    own_size_rung = holding[-1] if holding else None  # the smallest box holding the source
    kept: list[tuple[Rung, tuple[int, int]]] = []
    for rung, (box_w, box_h) in allowed:
        if width >= box_w or height >= box_h:
            kept.append((rung, _fit(width, height, box_w, box_h)))
        elif rung is own_size_rung:
            kept.append((rung, (_even_at_most(width), _even_at_most(height))))
    return tuple(kept)


def resolve_ladder(
    display_width: int,
    display_height: int,
    codecs: Sequence[VideoCodec] = DEFAULT_CODECS,
    *,
    max_resolution: str = DEFAULT_MAX_RESOLUTION,
) -> tuple[Variant, ...]:
    """Renditions for a source of this display size: each codec's rungs, descending.

    The rule (D47):

    * A portrait source (taller than wide) uses every box turned: 1080×1920, 720×1280, ….
    * Only rungs up to ``max_resolution`` count (``"1080p"`` by default).
    * A rung is kept when the source reaches its box on either edge (width ≥ box width or
      height ≥ box height); its size is the source fitted inside the box: the binding side
      is the box's (or the source's, never more), the other follows the aspect ratio rounded
      to the nearest even number and capped by the box. Rounding to even is what gives the
      standard sizes: 1918×1078 fits 1280×719.4, which rounds to 1280×720.
    * The smallest box that holds the whole source without being reached keeps the source at
      its own size (rounded down to even): 1918×1078 tops out at 1918×1078, 320×180 at
      320×180. Nothing is ever upscaled.

    Codecs keep their first-appearance order (duplicates dropped). Every output size is even.
    Raises ValueError for non-positive sizes, no codecs or an unknown ``max_resolution``.
    """
    if display_width <= 0 or display_height <= 0:
        raise ValueError(f"invalid video dimensions {display_width}x{display_height}")
    unique_codecs = tuple(dict.fromkeys(codecs))
    if not unique_codecs:
        raise ValueError("at least one codec is required")
    max_rung = MAX_RESOLUTIONS.get(max_resolution)
    if max_rung is None:
        raise ValueError(f"unknown max_resolution {max_resolution!r}")
    rungs = _rungs_for(display_width, display_height, max_rung)
    variants: list[Variant] = []
    for codec in unique_codecs:
        for rung, (width, height) in rungs:
            variants.append(
                Variant(
                    label=f"r{rung.name}_{codec.value}",
                    codec=codec,
                    rung=rung.name,
                    width=width,
                    height=height,
                    crf=rung.crf(codec),
                    bandwidth_estimate=bandwidth_estimate(codec, height),
                )
            )
    return tuple(variants)


def keyframe_interval_frames(fps: float) -> int:
    """Frames between forced keyframes: ``KEYFRAME_SECONDS`` worth, at least 1.

    Counting frames (not seconds) is enough for alignment because every rendition is cut
    from the same decode at the same frame rate, so frame N is the same instant in all.
    """
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"invalid frame rate {fps!r}")
    return max(1, _round_half_away(fps * KEYFRAME_SECONDS))


# --- audio ------------------------------------------------------------------------------


@frozen
class AudioTrack:
    """The single audio rendition every transcode produces (first source audio stream)."""

    id: str
    role: str
    language: str
    codec: str
    channels: int
    bitrate: int

    @property
    def hls_name(self) -> str:
        return self.role.title()  # NAME in the master playlist: "main" → "Main"


MAIN_AUDIO_TRACK: Final = AudioTrack(
    id="und_aac_2ch", role="main", language="und", codec="aac", channels=2, bitrate=128_000
)


# --- HLS output layout (paths relative to the packager's output directory) ---------------

AUDIO_DIR: Final = f"audio/{MAIN_AUDIO_TRACK.id}"


def variant_dir(label: str) -> str:
    return f"video/{label}"


def encoded_name(label: str) -> str:
    """File name of an intermediate encode (a video label or the audio track id)."""
    return f"{label}.mp4"


def text_dir(track_id: str) -> str:
    """Directory of a subtitles track (its HLS WebVTT and DASH fMP4 segments)."""
    return f"text/{track_id}"
