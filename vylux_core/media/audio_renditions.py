"""The ``audio:transcode`` outputs as data: the AAC renditions, the downloads and the
tree they form under the media hash.

Pure values, like :mod:`vylux_core.media.ladder`; the media adapter turns them into FFmpeg and
Shaka Packager options.
"""

from __future__ import annotations

import enum
from typing import Final

from attrs import frozen

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
