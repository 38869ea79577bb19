"""Content types of delivered objects, by file extension."""

from __future__ import annotations

import posixpath

from vylux_core.media.ladder import text_dir

OCTET_STREAM = "application/octet-stream"

# The spec's table (§5.4) plus the recommended media types.
_BY_EXTENSION = {
    ".avif": "image/avif",
    ".css": "text/css; charset=utf-8",
    ".flac": "audio/flac",
    ".gif": "image/gif",
    ".htm": "text/html; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4a": "audio/mp4",
    ".m4s": "video/iso.segment",
    ".mjs": "text/javascript; charset=utf-8",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".mpd": "application/dash+xml",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".vtt": "text/vtt; charset=utf-8",
    ".wasm": "application/wasm",
    ".webp": "image/webp",
    ".xml": "text/xml; charset=utf-8",
}

# What /stream serves: the files jobs publish (playlists, DASH manifests, segments,
# covers, .gif previews, captions, storyboards, audio downloads, waveform.json).
STREAMABLE = frozenset(
    {
        ".m3u8", ".mpd", ".m4s", ".mp4", ".m4a", ".mp3", ".flac", ".jpg", ".jpeg", ".webp",
        ".gif", ".vtt", ".json",
    }
)  # fmt: skip

# Types a browser would render or run on our origin: served as attachments (D30).
# Media-type essences, so a stored type such as "text/html" or "IMAGE/SVG+XML" counts too.
# A DASH manifest is XML, which a browser renders when navigated to; players fetch it and
# ignore Content-Disposition.
ACTIVE_CONTENT = frozenset(
    {
        "text/html",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "application/xhtml+xml",
        "application/dash+xml",
    }
)


def is_active_content(content_type: str) -> bool:
    """True for types in :data:`ACTIVE_CONTENT`, ignoring parameters and case."""
    return content_type.split(";", 1)[0].strip().lower() in ACTIVE_CONTENT


def extension_of(key: str) -> str:
    return posixpath.splitext(key)[1].lower()


def content_type_for(key: str) -> str | None:
    """The type for ``key``'s extension, or None when the table does not know it."""
    return _BY_EXTENSION.get(extension_of(key))


# WebVTT in fMP4 (a subtitles track's DASH init and segments) is neither audio nor video:
# RFC 4337 names such an MP4 application/mp4.
TEXT_MP4 = "application/mp4"


def stream_content_type(path: str) -> str | None:
    """The type of ``path`` inside a video's stream tree: as :func:`content_type_for`,
    except the MP4 files of a subtitles track (``text/{id}/init.mp4``, ``seg_N.m4s``)."""
    if path.startswith(text_dir("")) and extension_of(path) in (".mp4", ".m4s"):
        return TEXT_MP4
    return content_type_for(path)
