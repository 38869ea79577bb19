"""FFmpeg options (no binary) for the encodes: the video ladder, the video transcode's
audio track, the ``audio:transcode`` renditions and downloads.

Pure functions over the core's ladder and rendition values; the runner prepends the
binary path and runs the lists.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Sequence
from fractions import Fraction
from typing import Final

from vylux_core.media.audio_renditions import AudioDownloadKind, AudioRendition, audio_download_path
from vylux_core.media.ladder import (
    MAIN_AUDIO_TRACK,
    Variant,
    VideoCodec,
    encoded_name,
    keyframe_interval_frames,
)


def video_encoder_args(codec: VideoCodec, crf: int) -> tuple[str, ...]:
    """FFmpeg video encoder options for one rendition at ``crf``.

    ``-pix_fmt yuv420p`` so 10-bit or 4:2:2 sources still give 8-bit 4:2:0 output that
    every player decodes, and H.264 ``-profile:v high`` so the stream matches the
    advertised ``avc1.6400xx`` instead of drifting to High10/4:4:4.
    """
    if codec is VideoCodec.AV1:
        base: tuple[str, ...] = ("-c:v", "libsvtav1", "-preset", "6", "-crf", str(crf))
        return (*base, "-pix_fmt", "yuv420p")
    base = ("-c:v", "libx264", "-preset", "fast", "-crf", str(crf))
    return (*base, "-profile:v", "high", "-pix_fmt", "yuv420p")


def fixed_gop_args(codec: VideoCodec, fps: float) -> tuple[str, ...]:
    """Encoder options for a fixed GOP, so segment boundaries line up across renditions.

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
        args += ["-map", "0:v:0", "-an", *video_encoder_args(codec, only.crf), *gop, *output_args]
        scale = f"scale={only.width}:{only.height},setsar=1"
        args += ["-vf", f"{source_filter},{scale}" if source_filter else scale]
        args += ["-movflags", "+faststart", posixpath.join(out_dir, encoded_name(only.label))]
        return args
    args += ["-filter_complex", split_filter_graph(variants, source_filter=source_filter)]
    for index, variant in enumerate(variants):
        args += ["-map", f"[vout{index}]", "-an", *video_encoder_args(codec, variant.crf), *gop]
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


def encode_audio_args(input_path: str, out_path: str) -> list[str]:
    """FFmpeg options (no binary) that encode the first audio stream as stereo AAC.

    ``-ac 2``: the results always claim two channels, so a 5.1 source is downmixed
    instead of contradicting them.
    """
    track = MAIN_AUDIO_TRACK
    return [
        "-y", "-i", input_path,
        "-map", "0:a:0", "-vn",
        "-c:a", track.codec, "-b:a", f"{track.bitrate // 1000}k", "-ac", str(track.channels),
        "-movflags", "+faststart",
        out_path,
    ]  # fmt: skip


# --- audio:transcode ---------------------------------------------------------------------

# Output options of every file: the first audio stream only (no cover art, subtitles or
# data), no container or stream metadata (titles, GPS "location" tags).
_AUDIO_ONLY_OUTPUT: Final = ("-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1")
# Above this the renditions are resampled: FFmpeg would pick AAC's 88.2 or 96 kHz for a
# high-resolution source, which doubles the cost for nothing audible, and not every
# player decodes it.
MAX_RENDITION_SAMPLE_RATE: Final = 48_000
_ENCODED_DOWNLOADS: Final = {
    AudioDownloadKind.MP3: ("-c:a", "libmp3lame", "-q:a", "2", "-ac", "2"),
    AudioDownloadKind.FLAC: ("-c:a", "flac"),
}


def audio_encode_args(
    input_path: str,
    work_dir: str,
    output_dir: str,
    renditions: Sequence[AudioRendition],
    downloads: Sequence[AudioDownloadKind] = (),
    *,
    source_sample_rate: int = 0,
) -> list[str]:
    """FFmpeg options (no binary) that decode the source once and write every AAC
    rendition (``work_dir/{id}.mp4``) and the encoded downloads (MP3, FLAC) into
    ``output_dir``. ``-ac 2``: every rendition claims two channels, so 5.1 is downmixed
    and mono duplicated, as for the video transcode's audio. A source above
    MAX_RENDITION_SAMPLE_RATE (0: unknown) gives renditions at that rate; the FLAC keeps
    the source's."""
    if not renditions:
        raise ValueError("no audio renditions to encode")
    args = ["-y", "-i", input_path]
    resample: tuple[str, ...] = ()
    if source_sample_rate > MAX_RENDITION_SAMPLE_RATE:
        resample = ("-ar", str(MAX_RENDITION_SAMPLE_RATE))
    for rendition in renditions:
        args += [*_AUDIO_ONLY_OUTPUT, "-c:a", rendition.codec, *resample]
        args += ["-b:a", f"{rendition.bitrate // 1000}k", "-ac", str(rendition.channels)]
        args += ["-movflags", "+faststart", posixpath.join(work_dir, encoded_name(rendition.id))]
    for kind in downloads:
        codec_args = _ENCODED_DOWNLOADS.get(kind)
        if codec_args is not None:
            out = posixpath.join(output_dir, audio_download_path(kind))
            args += [*_AUDIO_ONLY_OUTPUT, *codec_args, out]
    return args


def m4a_remux_args(work_dir: str, output_dir: str, rendition: AudioRendition) -> list[str]:
    """FFmpeg options (no binary) copying ``rendition``'s encode into the M4A download,
    with ``moov`` in front so that a player starts before the whole file has arrived."""
    source = posixpath.join(work_dir, encoded_name(rendition.id))
    out = posixpath.join(output_dir, audio_download_path(AudioDownloadKind.M4A))
    return ["-y", "-i", source, "-map", "0:a:0", "-c", "copy", "-map_metadata", "-1",
            "-movflags", "+faststart", "-f", "ipod", out]  # fmt: skip
