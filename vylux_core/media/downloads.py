"""MP4 downloads (static renditions) of a transcode: their kinds, names and place."""

from __future__ import annotations

import enum
from typing import Final

from vylux_core.media.audio_renditions import AUDIO_DOWNLOADS_DIR, AUDIO_ONLY_DIR

# The downloads of an `audio:transcode`, inside its own tree.
AUDIO_DOWNLOADS_PREFIX: Final = f"{AUDIO_ONLY_DIR}/{AUDIO_DOWNLOADS_DIR}/"


class DownloadKind(enum.StrEnum):
    """``highest``: the top H.264 rung with the AAC track in one progressive MP4;
    ``audio``: the AAC track alone."""

    HIGHEST = "highest"
    AUDIO = "audio"


# Beside the HLS tree, under the video's prefix: ``videos/{p}/{hash}/downloads/…``.
DOWNLOADS_DIR: Final = "downloads"

_FILE_NAMES: Final = {DownloadKind.HIGHEST: "highest.mp4", DownloadKind.AUDIO: "audio.m4a"}


def download_path(kind: DownloadKind) -> str:
    """The download's path relative to the video's prefix."""
    return f"{DOWNLOADS_DIR}/{_FILE_NAMES[kind]}"


def download_format(kind: DownloadKind) -> str:
    return _FILE_NAMES[kind].rsplit(".", 1)[1]


def is_download_path(path: str) -> bool:
    """True for a path under the downloads directory, which ``/stream`` serves as an
    attachment so that a browser saves it rather than playing it inline."""
    return path.startswith((f"{DOWNLOADS_DIR}/", AUDIO_DOWNLOADS_PREFIX))
