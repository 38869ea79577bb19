"""Deterministic JSON encoding compatible with Go's ``encoding/json`` (for fingerprints)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

# Go escapes these even though JSON does not require it; fingerprints must agree
# byte for byte with the Go implementation's when both share one jobs table.
_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def encode_canonical(value: Any, *, sort_keys: bool = True) -> str:
    """Encode ``value`` compactly with Go's number and string rules.

    Mapping keys are sorted at every depth when ``sort_keys`` is true; otherwise the
    mapping's own order is kept (the fingerprint's fixed top-level order needs that).
    """
    parts: list[str] = []
    _encode(value, parts, sort_keys)
    return "".join(parts)


def _encode(value: Any, out: list[str], sort_keys: bool) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(format_go_float(value))
    elif isinstance(value, str):
        out.append(quote_go_string(value))
    elif isinstance(value, Mapping):
        items = sorted(value.items()) if sort_keys else list(value.items())
        out.append("{")
        for index, (key, item) in enumerate(items):
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, got {type(key).__name__}")
            if index:
                out.append(",")
            out.append(quote_go_string(key))
            out.append(":")
            _encode(item, out, True)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, True)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def format_go_float(value: float) -> str:
    """Shortest round-trip text, fixed notation unless ``|v| < 1e-6`` or ``|v| >= 1e21``."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinity have no JSON form")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(value)  # Python's repr is already the shortest round-trip e-form
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0") or "0"
        # Go writes at least two exponent digits and then trims "e-07" to "e-7".
        if sign == "+" and len(digits) < 2:
            digits = digits.rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return format(Decimal(repr(value)).normalize(), "f")


def quote_go_string(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _GO_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        elif "\ud800" <= char <= "\udfff":
            out.append("\\ufffd")  # a lone surrogate is invalid UTF-8; Go substitutes U+FFFD
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
