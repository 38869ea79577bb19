"""The media ``hash``: it names a job's outputs and becomes part of storage keys, and an
``/img`` source key that holds a SHA-256 digest belongs to it for cleanup tracking."""

from __future__ import annotations

import re

from vylux_core.errors import InvalidHash

# The hash flows into object-key prefixes, so "/" or ".." would let one hash's cleanup
# or outputs reach another's (D1). Letters, digits, "_" and "-" cover hex digests, UUIDs
# and slugs.
_HASH_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SOURCE_KEY_SEGMENT = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


def validate_media_hash(value: str) -> str:
    """Return ``value`` if it is a valid media hash, else raise :class:`InvalidHash`."""
    if not value:
        raise InvalidHash("hash is required")
    if _HASH_PATTERN.fullmatch(value) is None:
        raise InvalidHash("hash must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'")
    return value


def hash_prefix(media_hash: str) -> str:
    """First two characters of the hash, or the whole hash when it is shorter."""
    return media_hash[:2]


def media_hash_of_source_key(source_key: str) -> str | None:
    """The first ``/``-separated segment of an ``/img`` source key that is a SHA-256 hex
    digest (optionally ``sha256:``-prefixed), lower-cased; None when there is none."""
    for segment in source_key.split("/"):
        match = _SOURCE_KEY_SEGMENT.fullmatch(segment)
        if match is not None:
            return match.group(1).lower()
    return None
