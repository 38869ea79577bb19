"""RFC 3986 percent-decoding, applied exactly once to keys taken from the raw request path."""

from __future__ import annotations

import json

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


class PercentDecodingError(ValueError):
    """The text has a malformed ``%XX`` escape or does not decode to valid UTF-8 without NUL."""


def decode_once(raw: str) -> str:
    """Decode every ``%XX`` escape once; ``+`` stays ``+`` (this is a path, not a form)."""
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PercentDecodingError("invalid UTF-8 in encoded text") from exc
    out = bytearray()
    position = 0
    while (index := encoded.find(b"%", position)) != -1:
        out += encoded[position:index]
        pair = encoded[index + 1 : index + 3]
        if len(pair) != 2 or not _HEX_DIGITS.issuperset(pair):
            raise PercentDecodingError(f"invalid URL escape {_quote(encoded[index : index + 3])}")
        out.append(int(pair, 16))
        position = index + 3
    out += encoded[position:]
    try:
        decoded = out.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A key must be text; bytes that are not UTF-8 are a bad request (D100).
        raise PercentDecodingError("invalid UTF-8 in decoded text") from exc
    if "\x00" in decoded:
        # NUL truncates keys in some storage backends and C libraries downstream.
        raise PercentDecodingError("NUL byte in decoded text")
    return decoded


def _quote(snippet: bytes) -> str:
    # The spec's message shape: `invalid URL escape "%zz"`.
    return json.dumps(snippet.decode("utf-8", "replace"), ensure_ascii=False)
