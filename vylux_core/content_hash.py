"""The media hash that an ``/img`` source key belongs to, for cleanup tracking."""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


def content_hash_of(source_key: str) -> str | None:
    """The first ``/``-separated segment that is a SHA-256 hex digest (optionally
    ``sha256:``-prefixed), lower-cased; None when there is none (spec §5.1.8)."""
    for segment in source_key.split("/"):
        match = _SEGMENT.fullmatch(segment)
        if match is not None:
            return match.group(1).lower()
    return None
