"""The HLS transcode ladder: which renditions to encode, and the tool argv that builds them.

Pure functions over plain values (spec worker-and-storage §4.4). The FFmpeg adapter prepends
the binary path and runs the lists; nothing here touches a process or the file system.
"""

from __future__ import annotations

import enum
import math
import posixpath
import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Final

from attrs import field, frozen

SEGMENT_SECONDS: Final = 6
# Keyframe every 2 s: a 6 s segment then holds exactly three GOPs, and the packager can cut
# every rendition at the same instants because each keyframe lands on a shared boundary.
KEYFRAME_SECONDS: Final = 2

MASTER_PLAYLIST: Final = "master.m3u8"
# The DASH manifest the same packager run writes beside the master playlist, over the same
# CMAF segments (#18).
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

    def encoder_args(self, crf: int) -> tuple[str, ...]:
        """FFmpeg video encoder options for one rendition at ``crf``.

        Beyond the reference (§16.7): ``-pix_fmt yuv420p`` so 10-bit or 4:2:2 sources still
        give 8-bit 4:2:0 output that every player decodes, and H.264 ``-profile:v high`` so
        the stream matches the advertised ``avc1.6400xx`` instead of drifting to High10/4:4:4.
        """
        if self is VideoCodec.AV1:
            base: tuple[str, ...] = ("-c:v", "libsvtav1", "-preset", "6", "-crf", str(crf))
            return (*base, "-pix_fmt", "yuv420p")
        base = ("-c:v", "libx264", "-preset", "fast", "-crf", str(crf))
        return (*base, "-profile:v", "high", "-pix_fmt", "yuv420p")


def codecs_string(codec: VideoCodec) -> str:
    """RFC 6381 CODECS for a rendition plus AAC-LC audio (the reference's unused helper).

    The master playlist's CODECS comes from Shaka reading the real bitstreams; this is only a
    fallback for callers that describe a track without having packaged it.
    """
    if codec is VideoCodec.AV1:
        return "av01.0.08M.08,mp4a.40.2"
    return "avc1.640028,mp4a.40.2"


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
    # Go's math.Round, which the reference uses; Python's round() is banker's rounding and
    # would turn 202.5 into 202 instead of 203 (portrait r720 must come out 406 wide).
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def normalize_rotation(value: float) -> int:
    """Display rotation in {0, 90, 180, 270}: round, wrap into [0, 360), else 0 (§4.4(a))."""
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


# Resolved height → H.264 bandwidth estimate (§4.4(d)), first match wins.
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
    # the nearest even value. The reference's symmetric re-clamp is omitted: the min() in
    # _even_nearest_at_most already keeps the derived side inside its limit.
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
    # Orientation-aware (a deliberate difference, W§16.9): boxes turn for portrait sources, a
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
    """Renditions for a source of this display size: each codec's rungs, descending (§4.4(c)).

    The rule (W§16.9 changed on purpose, docs/differences.md):

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


def fixed_gop_args(codec: VideoCodec, fps: float) -> tuple[str, ...]:
    """Encoder options for a fixed GOP, so segment boundaries line up across renditions (§16.7).

    x264 also needs ``-keyint_min`` and ``-sc_threshold 0``, or scene cuts insert extra
    keyframes and shift its GOPs. FFmpeg's libsvtav1 wrapper maps only ``-g`` (to SVT-AV1's
    intra period) and ignores the other two, so they are left out rather than implying an
    effect they do not have.
    """
    frames = str(keyframe_interval_frames(fps))
    if codec is VideoCodec.AV1:
        return ("-g", frames)
    return ("-g", frames, "-keyint_min", frames, "-sc_threshold", "0")


def constant_rate_args(fps: float) -> tuple[str, ...]:
    """Output options that make every rendition constant-rate at ``fps``.

    A GOP counted in frames is ``KEYFRAME_SECONDS`` long only at a constant rate: a
    variable-frame-rate source (phones, screen recorders) would otherwise put keyframes
    wherever its frames happen to fall. Frames are dropped or repeated to fit; a
    constant-rate source at ``fps`` passes through unchanged. ``fps`` is written as the
    nearest ratio with a denominator up to 1001 (29.97… → 30000/1001).
    """
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"invalid frame rate {fps!r}")
    rate = Fraction(fps).limit_denominator(1001)
    return ("-fps_mode", "cfr", "-r", str(rate))


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


def encode_audio_args(input_path: str, out_path: str) -> list[str]:
    """FFmpeg options (no binary) that encode the first audio stream as stereo AAC.

    ``-ac 2`` is new (§16.8): the results always claim two channels, so a 5.1 source is
    downmixed instead of contradicting them.
    """
    track = MAIN_AUDIO_TRACK
    return [
        "-y", "-i", input_path,
        "-map", "0:a:0", "-vn",
        "-c:a", track.codec, "-b:a", f"{track.bitrate // 1000}k", "-ac", str(track.channels),
        "-movflags", "+faststart",
        out_path,
    ]  # fmt: skip


# --- HLS output layout (paths relative to the packager's output directory) ---------------

AUDIO_DIR: Final = f"audio/{MAIN_AUDIO_TRACK.id}"


def variant_dir(label: str) -> str:
    return f"video/{label}"


def encoded_name(label: str) -> str:
    """File name of an intermediate encode (a video label or the audio track id)."""
    return f"{label}.mp4"


# --- subtitles ----------------------------------------------------------------------------

# GROUP-ID of the master playlist's SUBTITLES renditions, which every variant refers to.
SUBTITLES_GROUP: Final = "subtitles"
# HLS media segments of a text track: plain WebVTT, which hls.js, Shaka Player and Safari
# all read; DASH gets the same cues as WebVTT in fMP4 (``wvtt``, init.mp4 + .m4s), which
# dash.js and Shaka Player read (dash.js reads no segmented plain WebVTT).
TEXT_HLS_SEGMENT_TEMPLATE: Final = "seg_$Number$.vtt"


@frozen
class TextTrack:
    """A subtitles track to package from ``{input_dir}/{id}.vtt``. ``language`` is a BCP 47
    tag, ``und`` when unknown (then the manifests carry none)."""

    id: str
    language: str
    name: str


def text_dir(track_id: str) -> str:
    return f"text/{track_id}"


# --- FFmpeg video encodes ---------------------------------------------------------------


def encode_group_args(
    input_path: str,
    variants: Sequence[Variant],
    out_dir: str,
    fps: float,
    *,
    source_filter: str = "",
    output_args: Sequence[str] = (),
) -> list[str]:
    """FFmpeg options (no binary) encoding every variant of one codec from a single decode.

    One variant scales with ``-vf``; several share a ``split`` so the source is decoded once.
    ``setsar=1`` forces square pixels, or the packager reports odd RESOLUTION values.
    ``source_filter`` (a filter chain, e.g. a tone map) runs once on the decoded source
    before any scaling; ``output_args`` (e.g. colour tags) go to every output.
    """
    if not variants:
        raise ValueError("no variants to encode")
    codec = variants[0].codec
    if any(variant.codec is not codec for variant in variants):
        raise ValueError("variants of one encode group must share a codec")
    gop = (*constant_rate_args(fps), *fixed_gop_args(codec, fps))
    args = ["-y", "-i", input_path]
    if len(variants) == 1:
        only = variants[0]
        args += ["-map", "0:v:0", "-an", *codec.encoder_args(only.crf), *gop, *output_args]
        scale = f"scale={only.width}:{only.height},setsar=1"
        args += ["-vf", f"{source_filter},{scale}" if source_filter else scale]
        args += ["-movflags", "+faststart", posixpath.join(out_dir, encoded_name(only.label))]
        return args
    args += ["-filter_complex", split_filter_graph(variants, source_filter=source_filter)]
    for index, variant in enumerate(variants):
        args += ["-map", f"[vout{index}]", "-an", *codec.encoder_args(variant.crf), *gop]
        args += [*output_args, "-movflags", "+faststart"]
        args.append(posixpath.join(out_dir, encoded_name(variant.label)))
    return args


def split_filter_graph(variants: Sequence[Variant], *, source_filter: str = "") -> str:
    """``[0:v:0]split=N[vsrc0]…;[vsrc0]scale=W:H,setsar=1[vout0];…`` for N variants,
    with ``source_filter`` in front of the split when given."""
    sources = "".join(f"[vsrc{index}]" for index in range(len(variants)))
    scales = (
        f"[vsrc{index}]scale={variant.width}:{variant.height},setsar=1[vout{index}]"
        for index, variant in enumerate(variants)
    )
    head = f"{source_filter}," if source_filter else ""
    return ";".join((f"[0:v:0]{head}split={len(variants)}{sources}", *scales))


# --- Shaka Packager ---------------------------------------------------------------------


@frozen
class PackagerEncryption:
    """Raw-key CBCS settings; ``key`` is kept out of repr so it never reaches a log line."""

    key_id: str  # 32 hex
    key: str = field(repr=False)  # 32 hex, the content key itself
    key_uri: str  # where players fetch the 16 raw key bytes


def packager_args(
    input_dir: str,
    output_dir: str,
    variants: Iterable[Variant],
    *,
    has_audio: bool,
    language: str = "und",
    encryption: PackagerEncryption | None = None,
    text_tracks: Sequence[TextTrack] = (),
    default_text_language: str | None = None,
) -> list[str]:
    """Shaka Packager options (no binary) packaging the encodes into one CMAF tree (§4.4(h)),
    described twice: HLS playlists and a DASH manifest over the same init and media segments.
    Text tracks are the exception: HLS gets segmented WebVTT, DASH WebVTT in fMP4, both
    under ``text/{id}/``; the packager never encrypts text. ``default_text_language`` marks
    the subtitles of that language as the default.

    Raises ValueError for encryption with an empty key, KID or URI, and for directories with
    a comma, which would split a stream descriptor into bogus fields.
    """
    if "," in input_dir or "," in output_dir:
        raise ValueError("packager directories must not contain ','")
    tagged = bool(language) and language != "und"
    args: list[str] = []
    if has_audio:
        track = MAIN_AUDIO_TRACK
        audio = _descriptor(input_dir, output_dir, "audio", track.id)
        audio += f",hls_group_id=audio,hls_name={track.hls_name}"
        args.append(audio + (f",lang={language}" if tagged else ""))
    # No `bw=`: without it Shaka writes the bandwidth it measured from the encoded
    # streams into the master playlist, instead of the reference's fixed guess (§16.7).
    args += [
        _descriptor(input_dir, output_dir, "video", variant.label)
        + f",iframe_playlist_name={posixpath.join(variant_dir(variant.label), IFRAME_PLAYLIST)}"
        for variant in variants
    ]
    for text in text_tracks:
        args += _text_descriptors(input_dir, output_dir, text)
    args += ["--hls_master_playlist_output", posixpath.join(output_dir, MASTER_PLAYLIST)]
    args += ["--hls_playlist_type", "VOD"]
    # Static: with segment templates Shaka would otherwise write a live ("dynamic") MPD.
    args += [
        "--mpd_output",
        posixpath.join(output_dir, DASH_MANIFEST),
        "--generate_static_live_mpd",
    ]
    # Fragment = segment: one moof per segment, as the reference packages.
    duration = str(SEGMENT_SECONDS)
    args += ["--segment_duration", duration, "--fragment_duration", duration]
    if has_audio and tagged:
        args += ["--default_language", language]
    if default_text_language and default_text_language != "und":
        args += ["--default_text_language", default_text_language]
    if encryption is not None:
        args += encryption_args(encryption)
    return args


def _text_descriptors(input_dir: str, output_dir: str, track: TextTrack) -> list[str]:
    if any(ch in track.name for ch in ',\n"'):
        raise ValueError(f"text track name {track.name!r} must not contain ',', '\"' or a newline")
    rel_dir = text_dir(track.id)
    out = posixpath.join(output_dir, rel_dir)
    common = f"in={posixpath.join(input_dir, track.id)}.vtt,stream=text"
    # The packager refuses "und"; without a language it writes none.
    if track.language and track.language != "und":
        common += f",language={track.language}"
    hls = ",".join(
        (
            common,
            f"segment_template={posixpath.join(out, TEXT_HLS_SEGMENT_TEMPLATE)}",
            f"playlist_name={posixpath.join(rel_dir, MEDIA_PLAYLIST)}",
            f"hls_group_id={SUBTITLES_GROUP},hls_name={track.name},hls_only=1",
        )
    )
    dash = ",".join(
        (
            common,
            f"init_segment={posixpath.join(out, INIT_SEGMENT)}",
            f"segment_template={posixpath.join(out, SEGMENT_TEMPLATE)}",
            f"dash_label={track.name},dash_only=1",
        )
    )
    return [hls, dash]


def _descriptor(input_dir: str, output_dir: str, stream: str, name: str) -> str:
    # Same layout as AUDIO_DIR / variant_dir(): <stream>/<track id or label>/
    rel_dir = f"{stream}/{name}"
    out = posixpath.join(output_dir, rel_dir)
    return ",".join(
        (
            f"in={posixpath.join(input_dir, encoded_name(name))}",
            f"stream={stream}",
            f"init_segment={posixpath.join(out, INIT_SEGMENT)}",
            f"segment_template={posixpath.join(out, SEGMENT_TEMPLATE)}",
            f"playlist_name={posixpath.join(rel_dir, MEDIA_PLAYLIST)}",
        )
    )


def encryption_args(encryption: PackagerEncryption) -> list[str]:
    """Shaka Packager options for raw-key CBCS with one key for every track."""
    if not (encryption.key and encryption.key_id and encryption.key_uri):
        raise ValueError("incomplete encryption config")
    return [
        "--enable_raw_key_encryption",
        "--protection_scheme", "cbcs",
        # Without it Shaka leaves the first seconds in the clear (TOOLCHAIN.md).
        "--clear_lead", "0",
        # Empty label: one key for every track, which is what the key endpoint serves.
        "--keys", f"label=:key_id={encryption.key_id}:key={encryption.key}",
        # The W3C common PSSH (system 1077efec-…) in every init segment and in the MPD's
        # ContentProtection: what EME's Clear Key CDM (org.w3.clearkey) reads the key ID
        # from. Named although it is also Shaka's default, so the output does not depend on
        # a default. HLS is unaffected: it keeps one KEYFORMAT="identity" key tag whose URI
        # is --hls_key_uri (FairPlay, Widevine, PlayReady would each add their own tag).
        "--protection_systems", "CommonSystem",
        "--hls_key_uri", encryption.key_uri,
    ]  # fmt: skip


_KEY_VALUE = re.compile(r"(^|:)key=[^:]*")


def redact_args(args: Iterable[str]) -> list[str]:
    """Copy of packager ``args`` with the content key masked, safe to log (§16.19)."""
    redacted: list[str] = []
    after_keys = False
    for arg in args:
        if after_keys:
            arg = _KEY_VALUE.sub(r"\1key=<redacted>", arg)
        elif arg.startswith("--keys="):
            arg = "--keys=" + _KEY_VALUE.sub(r"\1key=<redacted>", arg.removeprefix("--keys="))
        redacted.append(arg)
        after_keys = arg == "--keys"
    return redacted
