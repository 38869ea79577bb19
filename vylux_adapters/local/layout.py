"""Where LocalDirObjectStore keeps each key below its root, and how names read back.

The layout, for keys ``videos/ab/h/master.m3u8`` and ``videos/ab/h``::

    root/
      videos/ab/
        h/                            one directory per key segment but the last
          master.m3u8~data            the object's bytes, exactly as written
          master.m3u8~meta            JSON sidecar: {"content_type", "cache_control"}
          master.m3u8~tmp-k2x9a1      a write in progress (renamed over ~data/~meta)
        h~data                        the object ``videos/ab/h``, beside the directory

Segments are stored as they are except ``%`` → ``%25`` and ``~`` → ``%7E``. So a name
holding ``~`` is always one of ours, and ``a`` (an object) and ``a/x`` (an object in a
directory ``a``) coexist, as they do on S3. Listing takes only ``~data`` files:
sidecars and temp files never show up as keys.

Keys that could leave the root or that a file system cannot hold are refused
with ``InvalidStorageKey``: empty, absolute, ``.`` or ``..`` or empty segments,
backslashes, NUL, text that is not valid Unicode, and overlong keys or segments.
"""

from __future__ import annotations

import re
from pathlib import Path

from attrs import frozen

from vylux_core.errors import InvalidStorageKey

DATA_TAG = "data"
META_TAG = "meta"
TEMP_TAG = "tmp-"
MAX_KEY_BYTES = 1024  # S3's limit, so both adapters accept the same keys
# NAME_MAX is 255 bytes; leave room for "~tmp-" and mkstemp's random suffix.
MAX_SEGMENT_BYTES = 255 - 16

_ESCAPED = re.compile("%(25|7E)")


@frozen
class ObjectPaths:
    """The files of one key: ``data`` and ``meta`` live in ``directory``."""

    directory: Path
    name: str  # the encoded last segment

    @property
    def data(self) -> Path:
        return self.directory / f"{self.name}~{DATA_TAG}"

    @property
    def meta(self) -> Path:
        return self.directory / f"{self.name}~{META_TAG}"

    @property
    def temp_prefix(self) -> str:
        return f"{self.name}~{TEMP_TAG}"


def object_paths(root: Path, key: str) -> ObjectPaths:
    """The paths of ``key``; raises ``InvalidStorageKey`` for keys this store refuses."""
    segments = [encode_segment(segment) for segment in _segments(key)]
    return ObjectPaths(root.joinpath(*segments[:-1]), segments[-1])


def prefix_scan(root: Path, prefix: str) -> tuple[Path, str, str] | None:
    """Where to look for keys starting with ``prefix``.

    Returns (directory, key text of that directory with its trailing ``/``, start of
    the names to take there), or None when no valid key can start with ``prefix``.
    """
    *directories, partial = prefix.split("/")
    if not directories:
        return root, "", partial
    try:
        encoded = [encode_segment(segment) for segment in _segments("/".join(directories))]
    except InvalidStorageKey:
        return None
    return root.joinpath(*encoded), "/".join(directories) + "/", partial


def listed_object(file_name: str) -> str | None:
    """The key segment of a ``~data`` file, or None for sidecars, temp and foreign files."""
    encoded, tilde, tag = file_name.partition("~")
    if not tilde or tag != DATA_TAG:
        return None
    return listed_directory(encoded)


def listed_directory(name: str) -> str | None:
    """The key segment a directory stands for, or None if no key maps to it."""
    segment = _ESCAPED.sub(lambda match: "%" if match.group(1) == "25" else "~", name)
    try:
        _segments(segment)
    except InvalidStorageKey:
        return None
    return segment if encode_segment(segment) == name else None


def encode_segment(segment: str) -> str:
    return segment.replace("%", "%25").replace("~", "%7E")


def _segments(key: str) -> list[str]:
    if not key:
        raise InvalidStorageKey("object keys must be non-empty")
    if "\x00" in key or "\\" in key:
        raise InvalidStorageKey("object keys must not contain NUL or backslashes")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidStorageKey("object keys must be valid Unicode text") from None
    if size > MAX_KEY_BYTES:
        raise InvalidStorageKey(f"object keys are at most {MAX_KEY_BYTES} bytes of UTF-8")
    segments = key.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidStorageKey(
                "object keys must be relative, without empty, '.' or '..' segments"
            )
        if len(encode_segment(segment).encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidStorageKey(f"key segments are at most {MAX_SEGMENT_BYTES} bytes")
    return segments
