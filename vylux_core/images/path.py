"""Anatomy of the ``/img`` path remainder ``{source}.{format}``."""

from __future__ import annotations

from vylux_core.errors import InvalidStorageKey, UnsupportedFormat
from vylux_core.images.options import ImageFormat, parse_format
from vylux_core.security.percent_decoding import PercentDecodingError, decode_once


def parse_image_request_path(remainder: str) -> tuple[str, ImageFormat]:
    """Split the raw remainder into the decoded source key and the output format.

    Checks run in the spec's order (missing path, format, encoding, empty key, §5.1.1) so
    a request with several faults gets the message the spec names.
    """
    if not remainder:
        raise InvalidStorageKey("missing source path")
    dot = remainder.rfind(".")
    # A dot in an earlier path element is part of a directory name, not an extension.
    if dot <= remainder.rfind("/"):
        raise UnsupportedFormat("unsupported output format")
    fmt = parse_format(remainder[dot + 1 :])
    try:
        source_key = decode_once(remainder[:dot])
    except PercentDecodingError as exc:
        raise InvalidStorageKey("invalid source encoding") from exc
    if not source_key:
        raise InvalidStorageKey("missing source key")
    return source_key, fmt


def canonical_image_path(remainder: str) -> str:
    """The decoded source key plus the canonical extension, as the signature sees them."""
    source_key, fmt = parse_image_request_path(remainder)
    return f"{source_key}.{fmt.extension}"
