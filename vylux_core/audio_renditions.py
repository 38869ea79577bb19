"""The ``audio:transcode`` outputs: the AAC renditions, the downloads, the tree they form
under the media hash, and the tool argv that builds them.

Pure functions over plain values, like :mod:`vylux_core.ladder`: the FFmpeg adapter
prepends the binary path and runs the lists.
"""

from __future__ import annotations

import enum
import posixpath
from collections.abc import Sequence
from typing import Final

from attrs import frozen

from vylux_core.ladder import (
    DASH_MANIFEST,
    INIT_SEGMENT,
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    SEGMENT_SECONDS,
    SEGMENT_TEMPLATE,
    PackagerEncryption,
    encoded_name,
    encryption_args,
)

# The audio job's tree under ``videos/{p}/{hash}/``. A tree of its own, because one video
# file may have both a video transcode (whose master playlist sits at the top) and an
# audio transcode; /stream serves it as ``/stream/{hash}/audio-only/…``.
AUDIO_ONLY_DIR: Final = "audio-only"
WAVEFORM_FILE: Final = "waveform.json"
AUDIO_DOWNLOADS_DIR: Final = "downloads"


@frozen
class AudioRendition:
    """One AAC-LC stereo rendition of the audio-only stream."""

    id: str
    bitrate: int
    codec: str = "aac"
    channels: int = 2
    role: str = "main"
    language: str = "und"

    @property
    def directory(self) -> str:
        """Its directory inside the audio tree."""
        return self.id

    @property
    def hls_name(self) -> str:
        return f"{self.bitrate // 1000}k"


# Highest first: Shaka lists the variants in this order and players start on the first.
AUDIO_RENDITIONS: Final = (
    AudioRendition(id="aac_128k", bitrate=128_000),
    AudioRendition(id="aac_64k", bitrate=64_000),
)


class AudioDownloadKind(enum.StrEnum):
    """``mp3``: an MP3 encode (VBR, ~190 kbit/s); ``m4a``: the 128k AAC rendition in a
    progressive MP4 (a remux, no second encode); ``flac``: lossless at the source's rate
    and channel count."""

    MP3 = "mp3"
    M4A = "m4a"
    FLAC = "flac"


def audio_download_path(kind: AudioDownloadKind) -> str:
    """The download's path inside the audio tree: ``downloads/audio.{kind}``."""
    return f"{AUDIO_DOWNLOADS_DIR}/audio.{kind.value}"


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


def audio_packager_args(
    input_dir: str,
    output_dir: str,
    renditions: Sequence[AudioRendition],
    *,
    encryption: PackagerEncryption | None = None,
) -> list[str]:
    """Shaka Packager options (no binary) packaging the renditions as one audio-only CMAF
    tree, described as HLS (a master playlist with one variant per rendition) and DASH
    (one adaptation set). Raises ValueError as :func:`vylux_core.ladder.packager_args`."""
    if "," in input_dir or "," in output_dir:
        raise ValueError("packager directories must not contain ','")
    args = []
    for rendition in renditions:
        out = posixpath.join(output_dir, rendition.directory)
        args.append(
            ",".join(
                (
                    f"in={posixpath.join(input_dir, encoded_name(rendition.id))}",
                    "stream=audio",
                    f"init_segment={posixpath.join(out, INIT_SEGMENT)}",
                    f"segment_template={posixpath.join(out, SEGMENT_TEMPLATE)}",
                    f"playlist_name={posixpath.join(rendition.directory, MEDIA_PLAYLIST)}",
                    "hls_group_id=audio",
                    f"hls_name={rendition.hls_name}",
                )
            )
        )
    duration = str(SEGMENT_SECONDS)
    args += [
        "--hls_master_playlist_output", posixpath.join(output_dir, MASTER_PLAYLIST),
        "--hls_playlist_type", "VOD",
        "--mpd_output", posixpath.join(output_dir, DASH_MANIFEST), "--generate_static_live_mpd",
        "--segment_duration", duration, "--fragment_duration", duration,
    ]  # fmt: skip
    if encryption is not None:
        args += encryption_args(encryption)
    return args
