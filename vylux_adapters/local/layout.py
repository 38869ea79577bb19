"""Where LocalDirObjectStore keeps each key below its root, and how names read back.

An object is a plain file: the key ``a/b/c.png`` is the file ``root/a/b/c.png``, its
segments used as file names exactly as they are. So a file dropped into the root
(``cp photo.png vylux-data/source/``) *is* the object ``photo.png``, and the tree
can be browsed and served by any static file server. For the keys
``videos/ab/h/master.m3u8`` and ``photo.png``::

    root/
      photo.png                       the object's bytes, exactly as written
      videos/ab/h/
        master.m3u8
        .vylux-tmp-3f9c0a1b2d4e6f70   a write in progress (renamed over master.m3u8)
      .vylux-meta/                    metadata, a hidden tree mirroring the objects
        videos/ab/h/master.m3u8.json  JSON sidecar: {"content_type", "cache_control"}

A missing sidecar means no stored content type (``ObjectInfo.content_type=None``):
that is the case for every file put there by hand. Objects written here get the
ordinary permissions of a new file (``0o666`` less the umask), not ``0o600``.

Names starting with ``.vylux`` are reserved for the store: the metadata tree, temp
files, ``ping`` probes. Keys with such a segment are refused, and listing never
yields them, nor files whose names are not valid keys (not UTF-8, too long, ...).

A file system cannot hold both ``a`` (a file) and ``a/x`` (a file in a directory
``a``), as S3 can. Writing either when the other exists raises ``InvalidStorageKey``
("key conflicts with an existing object"); an *empty* directory in the way of a
write is removed. Reading ``a/x`` below a file ``a``, or ``a`` that is a directory,
is ``ObjectNotFound``. Sidecars are named ``<name>.json``, so the same holds between
``a`` and ``a.json/x``: their sidecars would be a file and a directory of the same
name, and the second one written is refused.

Symlinks. Only an object's own name may be a symlink, and only to a regular file
whose resolved path is below the root and is itself a valid key: such a link is an
alias for that file. It is listed and read like a file, with its own sidecar (so a
dropped-in link has no content type). A link to anything else (outside the root,
into ``.vylux-meta``, to a directory, dangling) is not an object. Symlinked
directories are never followed, not even within the root: keys below them are not
found nor listed, and writes through them are refused as conflicts (they would write
somewhere other than the key's own path). Writing a key whose file is a symlink
replaces the link, and deleting it removes the link: the target is never touched.

Keys that could leave the root or that a file system cannot hold are refused
with ``InvalidStorageKey``: empty, absolute, ``.`` or ``..`` or empty segments,
backslashes, NUL, text that is not valid Unicode, overlong keys or segments, and
reserved segments.
"""

from __future__ import annotations

from attrs import frozen

from vylux_core.errors import InvalidStorageKey

RESERVED_PREFIX = ".vylux"
META_DIRECTORY = ".vylux-meta"
META_SUFFIX = ".json"
TEMP_PREFIX = ".vylux-tmp-"
PING_PREFIX = ".vylux-ping-"
MAX_KEY_BYTES = 1024  # S3's limit, so both adapters accept the same keys
# NAME_MAX is 255 bytes, and the sidecar's name adds ".json".
MAX_SEGMENT_BYTES = 255 - len(META_SUFFIX)


@frozen
class ObjectLocation:
    """The files of one key: the object itself and its metadata sidecar."""

    key: str
    segments: tuple[str, ...]

    @property
    def directories(self) -> tuple[str, ...]:
        """The directories, from the root down, that hold the object's file."""
        return self.segments[:-1]

    @property
    def name(self) -> str:
        return self.segments[-1]

    @property
    def meta_directories(self) -> tuple[str, ...]:
        return (META_DIRECTORY, *self.segments[:-1])

    @property
    def meta_name(self) -> str:
        return self.segments[-1] + META_SUFFIX


def locate(key: str) -> ObjectLocation:
    """Where ``key`` lives; raises ``InvalidStorageKey`` for keys this store refuses."""
    return ObjectLocation(key, tuple(key_segments(key)))


def prefix_scan(prefix: str) -> tuple[tuple[str, ...], str, str] | None:
    """Where to look for keys starting with ``prefix``.

    Returns (the directory's segments below the root, key text of that directory with
    its trailing ``/``, start of the names to take there), or None when no valid key
    can start with ``prefix``.
    """
    *directories, partial = prefix.split("/")
    if not directories:
        return (), "", partial
    try:
        segments = key_segments("/".join(directories))
    except InvalidStorageKey:
        return None
    return tuple(segments), "/".join(directories) + "/", partial


def listed_segment(name: str) -> str | None:
    """The key segment a directory entry stands for, or None for reserved names and
    names no key maps to."""
    try:
        _check_segment(name)
    except InvalidStorageKey:
        return None
    return name


def key_segments(key: str) -> list[str]:
    if not key:
        raise InvalidStorageKey("object keys must be non-empty")
    if "\x00" in key or "\\" in key:
        raise InvalidStorageKey("object keys must not contain NUL or backslashes")
    if _utf8_size(key) > MAX_KEY_BYTES:
        raise InvalidStorageKey(f"object keys are at most {MAX_KEY_BYTES} bytes of UTF-8")
    segments = key.split("/")
    for segment in segments:
        _check_segment(segment)
    return segments


def fits_in_a_key(text: str) -> bool:
    return _utf8_size(text) <= MAX_KEY_BYTES


def _check_segment(segment: str) -> None:
    if segment in ("", ".", ".."):
        raise InvalidStorageKey("object keys must be relative, without empty, '.' or '..' segments")
    if "\x00" in segment or "\\" in segment:
        raise InvalidStorageKey("object keys must not contain NUL or backslashes")
    if _utf8_size(segment) > MAX_SEGMENT_BYTES:
        raise InvalidStorageKey(f"key segments are at most {MAX_SEGMENT_BYTES} bytes")
    if segment.startswith(RESERVED_PREFIX):
        raise InvalidStorageKey(f"key segments starting with {RESERVED_PREFIX!r} are reserved")


def _utf8_size(text: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidStorageKey("object keys must be valid Unicode text") from None
