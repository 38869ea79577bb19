"""Reading ffprobe's JSON into an AudioProbe: the first audio stream of any media file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vylux_core.errors import UnsupportedMedia
from vylux_core.ports.audio_toolchain import AudioProbe


def parse_audio_probe(raw: bytes) -> AudioProbe:
    """Raises ``UnsupportedMedia`` when the file has no audio stream: bad input a retry
    cannot fix, unlike a failing tool (``MediaToolFailed``)."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise UnsupportedMedia("source is not a media file (unreadable ffprobe output)") from exc
    streams = [s for s in _list(document, "streams") if isinstance(s, Mapping)]
    if not streams:
        raise UnsupportedMedia("source is not a media file (no streams)")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if audio is None:
        raise UnsupportedMedia("source has no audio stream")
    container = document.get("format") if isinstance(document, Mapping) else None
    duration = _seconds(container.get("duration") if isinstance(container, Mapping) else None)
    codec = audio.get("codec_name")
    return AudioProbe(
        duration_seconds=duration or _seconds(audio.get("duration")),
        sample_rate=int(_seconds(audio.get("sample_rate"))),
        channels=_count(audio.get("channels")),
        codec=codec if isinstance(codec, str) and codec else "unknown",
    )


def _seconds(value: object) -> float:
    # ffprobe writes durations and rates as strings ("6.000000", "44100").
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if number > 0 and number != float("inf") else 0.0


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _list(container: object, key: str) -> list[Any]:
    value = container.get(key) if isinstance(container, Mapping) else None
    return value if isinstance(value, list) else []
