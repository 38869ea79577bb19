"""What the video and the audio probe read alike from ffprobe's JSON: its streams, the
container's duration, and numbers that ffprobe writes as strings or leaves out."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from vylux_core.errors import UnsupportedMedia


@frozen
class ProbeDocument:
    streams: list[Mapping[str, Any]]
    format_seconds: float
    """The container's duration; 0 when ffprobe does not know it."""


def read_probe_document(raw: bytes) -> ProbeDocument:
    """Raises ``UnsupportedMedia`` when the output is not JSON or lists no stream: the
    file is no media file, which a retry cannot change."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise UnsupportedMedia("source is not a media file (unreadable ffprobe output)") from exc
    streams = [s for s in json_list(document, "streams") if isinstance(s, Mapping)]
    if not streams:
        raise UnsupportedMedia("source is not a media file (no streams)")
    container = document.get("format") if isinstance(document, Mapping) else None
    duration = seconds(container.get("duration") if isinstance(container, Mapping) else None)
    return ProbeDocument(streams=streams, format_seconds=duration)


def seconds(value: object) -> float:
    """A duration or a rate ("6.000000", "44100"); 0 when missing, unreadable or not
    positive."""
    number = finite_float(value)
    return number if number > 0 else 0.0


def finite_float(value: object) -> float:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def json_list(container: object, key: str) -> list[Any]:
    value = container.get(key) if isinstance(container, Mapping) else None
    return value if isinstance(value, list) else []
