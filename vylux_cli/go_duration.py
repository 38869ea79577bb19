"""Parsing Go duration strings such as ``300ms`` or ``1m30s``, the syntax of duration settings."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError. ``0`` alone is allowed, as in Go."""
    value = text.strip()
    if value in ("0", "+0", "-0"):
        return 0.0
    sign = 1.0
    if value[:1] in "+-" and value:
        sign = -1.0 if value[0] == "-" else 1.0
        value = value[1:]
    if not value:
        raise ValueError(f"invalid duration {text!r}")
    total, position = 0.0, 0
    while position < len(value):
        match = _PART.match(value, position)
        if match is None:
            raise ValueError(f"invalid duration {text!r} (use e.g. 30s, 1m30s, 500ms)")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    return sign * total
