"""Strict JSON request bodies: whatever two parsers could read differently is refused (D35)."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from vylux_core.errors import InvalidJobRequest

_PREFIX = "invalid JSON body"
# json.loads turns an unpaired "\\ud800" escape into a lone surrogate code point.
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json_body(body: bytes) -> Any:
    """Decode ``body`` as exactly one JSON value in UTF-8.

    Refused, each with ``invalid JSON body: <detail>``: an empty body, bytes that
    are not UTF-8 (including a BOM), syntax errors, trailing data after the value,
    duplicate object keys (which one would win is a parser's whim), ``NaN`` and
    ``Infinity``, and absurd nesting or number lengths.
    """
    if not body.strip():
        _fail("empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        _fail("body is not valid UTF-8")
    try:
        document = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        _fail(f"{exc.msg} at line {exc.lineno} column {exc.colno}")
    except RecursionError:
        _fail("nesting too deep")
    except ValueError as exc:
        # Duplicate keys and NaN (below); also integers longer than Python will parse.
        _fail(str(exc))
    if _has_lone_surrogate(document):
        # Valid JSON syntax, but no Unicode text: such a string cannot be stored,
        # logged or echoed in an error body as UTF-8 (each would be a 500).
        _fail("lone surrogate escape in a string")
    return document


def _has_lone_surrogate(document: Any) -> bool:
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate field {json.dumps(key)}")
        result[key] = value
    return result


def _constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _fail(detail: str) -> NoReturn:
    raise InvalidJobRequest(f"{_PREFIX}: {detail}")
