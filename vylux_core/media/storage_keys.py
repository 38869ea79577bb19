"""Object-key layout of the media store: the only place that builds keys."""

from __future__ import annotations

import re

from vylux_core.errors import InvalidStorageKey
from vylux_core.jobs.options import VARIANT_PATTERN
from vylux_core.media.audio_renditions import AUDIO_ONLY_DIR
from vylux_core.media.media_hash import hash_prefix, validate_media_hash

_EXTENSION_PATTERN = re.compile(r"[a-z0-9]{1,8}")
_PROCESSING_HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


def image_prefix(media_hash: str) -> str:
    """``images/{p}/{h}/`` — everything ``image:thumbnail`` writes for a hash."""
    validate_media_hash(media_hash)
    return f"images/{hash_prefix(media_hash)}/{media_hash}/"


def video_prefix(media_hash: str) -> str:
    """``videos/{p}/{h}/`` — covers, previews and HLS trees for a hash."""
    validate_media_hash(media_hash)
    return f"videos/{hash_prefix(media_hash)}/{media_hash}/"


def thumbnail_key(media_hash: str, variant: str, extension: str) -> str:
    """``images/{p}/{h}/{variant}.{ext}``."""
    if VARIANT_PATTERN.fullmatch(variant) is None:
        raise InvalidStorageKey(f"invalid variant name: {variant!r}")
    return image_prefix(media_hash) + f"{variant}.{_checked_extension(extension)}"


def video_key(media_hash: str, relative_path: str) -> str:
    """``videos/{p}/{h}/{rel}`` for a path inside the hash's video tree."""
    return video_prefix(media_hash) + checked_relative_path(relative_path)


def audio_only_key(media_hash: str, relative_path: str) -> str:
    """``videos/{p}/{h}/audio-only/{rel}`` for a path inside the hash's audio-only tree."""
    return video_key(media_hash, f"{AUDIO_ONLY_DIR}/{checked_relative_path(relative_path)}")


def cover_key(media_hash: str) -> str:
    return video_key(media_hash, "cover.jpg")


def preview_key(media_hash: str, extension: str) -> str:
    return video_key(media_hash, f"preview.{_checked_extension(extension)}")


def rendition_cache_key(processing_hash: str, extension: str) -> str:
    """``cache/{processing_hash}.{ext}`` — the media-store copy of an ``/img`` rendition."""
    if _PROCESSING_HASH_PATTERN.fullmatch(processing_hash) is None:
        raise InvalidStorageKey("processing hash must be 64 lowercase hex characters")
    return f"cache/{processing_hash}.{_checked_extension(extension)}"


def checked_relative_path(path: str) -> str:
    """Reject paths that could leave their prefix: empty, absolute, ``.``/``..`` or NUL segments."""
    if not path:
        raise InvalidStorageKey("empty relative path")
    if path.startswith("/") or "\\" in path or "\x00" in path:
        raise InvalidStorageKey(f"invalid relative path: {path!r}")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidStorageKey(f"invalid relative path: {path!r}")
    return path


def _checked_extension(extension: str) -> str:
    if _EXTENSION_PATTERN.fullmatch(extension) is None:
        raise InvalidStorageKey(f"invalid file extension: {extension!r}")
    return extension
