"""What the configured ffmpeg must be able to do, declared once and checked at start-up.

A worker whose ffmpeg lacks a decoder, encoder or filter it needs would otherwise start
and fail jobs later (an AV1 upload, the first HDR source, every AV1 ladder). The
``vylux-cli serve`` and ``work`` start-up reads ``ffmpeg -decoders``, ``-encoders`` and
``-filters`` once and refuses to start with one line naming everything missing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Final

from vylux_adapters.media.colour import TONE_MAP_FILTERS
from vylux_adapters.media.decoders import DECODERS_ARGS, parse_decoders
from vylux_adapters.media.process import capture_tool
from vylux_core.errors import MediaToolFailed

# Video codecs every worker decodes (docs/media.md lists the inputs), by FFmpeg's codec
# name; any software decoder of the codec will do (av1: libdav1d or libaom-av1).
REQUIRED_VIDEO_DECODERS: Final = ("h264", "hevc", "av1", "vp8", "vp9", "prores", "mpeg2video")
# Audio decoders by decoder name: the sound of phones, cameras, WebM and broadcast files.
REQUIRED_AUDIO_DECODERS: Final = ("aac", "mp3", "mp2", "opus", "vorbis", "ac3", "eac3", "flac")
# Encoders by name: the two ladders (ffmpeg_args.video_encoder_args), the audio rendition, the
# JPEG cover, the GIF preview (WebP previews are encoded by libvips) and the MP3 and FLAC
# downloads of audio:transcode.
REQUIRED_ENCODERS: Final = ("libx264", "libsvtav1", "aac", "mjpeg", "gif", "libmp3lame", "flac")
# Filters beyond FFmpeg's always-built ones: HDR tone mapping needs libzimg.
REQUIRED_FILTERS: Final = (*TONE_MAP_FILTERS, "palettegen", "paletteuse")

ENCODERS_ARGS: Final = ("-hide_banner", "-encoders")
FILTERS_ARGS: Final = ("-hide_banner", "-filters")
LISTING_TIMEOUT_SECONDS: Final = 60.0
LISTING_OUTPUT_LIMIT: Final = 1024 * 1024

# " A....D aac   AAC (Advanced Audio Coding)": kind and flags, then the name.
_CODER_LINE: Final = re.compile(r"^ (?P<kind>[VAS])[A-Z.]{5} (?P<name>\S+)\s")
# " TS zscale   V->V   Apply resizing …": two or three flags, the name, the pads.
_FILTER_LINE: Final = re.compile(r"^ [A-Z.]{2,3} (?P<name>\S+)\s+\S*->\S*\s")


class FfmpegIncomplete(Exception):
    """The ffmpeg binary lacks capabilities the worker needs; ``missing`` names each one
    ("decoder av1", "encoder libsvtav1", "filter zscale")."""

    def __init__(self, ffmpeg: str, missing: list[str]) -> None:
        super().__init__(f"ffmpeg {ffmpeg} lacks " + ", ".join(missing))
        self.ffmpeg = ffmpeg
        self.missing = missing


def coder_names(listing: str, kind: str) -> frozenset[str]:
    """Names of the ``kind`` (V, A or S) entries of ``ffmpeg -decoders``/``-encoders``."""
    _, _, table = listing.partition("------\n")
    return frozenset(
        match["name"]
        for match in map(_CODER_LINE.match, table.splitlines())
        if match is not None and match["kind"] == kind
    )


def filter_names(listing: str) -> frozenset[str]:
    """Names in ``ffmpeg -filters`` output (FFmpeg 7 prints no "------" line above the
    table; the legend has no "->" column, so it never matches)."""
    return frozenset(
        match["name"] for match in map(_FILTER_LINE.match, listing.splitlines()) if match
    )


def missing_capabilities(decoders: str, encoders: str, filters: str) -> list[str]:
    """Everything of the REQUIRED_* declarations the three listings lack, in their order."""
    video = parse_decoders(decoders)
    audio = coder_names(decoders, "A")
    video_encoders = coder_names(encoders, "V") | coder_names(encoders, "A")
    found_filters = filter_names(filters)
    missing = [f"decoder {codec}" for codec in REQUIRED_VIDEO_DECODERS if not video.get(codec)]
    missing += [f"decoder {name}" for name in REQUIRED_AUDIO_DECODERS if name not in audio]
    missing += [f"encoder {name}" for name in REQUIRED_ENCODERS if name not in video_encoders]
    missing += [f"filter {name}" for name in REQUIRED_FILTERS if name not in found_filters]
    return missing


async def verify_ffmpeg(ffmpeg: str) -> None:
    """Raise :class:`FfmpegIncomplete` unless ``ffmpeg`` has every required capability.

    A binary that cannot even list them (not an ffmpeg, crashes) is incomplete too.
    """
    listings: Mapping[str, str]
    try:
        async with asyncio.timeout(LISTING_TIMEOUT_SECONDS):
            listings = {
                name: (
                    await capture_tool("ffmpeg", [ffmpeg, *args], limit=LISTING_OUTPUT_LIMIT)
                ).decode("utf-8", errors="replace")
                for name, args in (
                    ("decoders", DECODERS_ARGS),
                    ("encoders", ENCODERS_ARGS),
                    ("filters", FILTERS_ARGS),
                )
            }
    except (MediaToolFailed, TimeoutError) as exc:
        reason = str(exc) or "timed out"
        raise FfmpegIncomplete(
            ffmpeg, [f"a working -decoders/-encoders/-filters ({reason})"]
        ) from exc
    missing = missing_capabilities(listings["decoders"], listings["encoders"], listings["filters"])
    if missing:
        raise FfmpegIncomplete(ffmpeg, missing)
