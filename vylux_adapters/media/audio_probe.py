"""Reading ffprobe's JSON into an AudioProbe: the first audio stream of any media file."""

from __future__ import annotations

from vylux_adapters.media.ffprobe_json import read_probe_document, seconds
from vylux_core.errors import UnsupportedMedia
from vylux_core.ports.audio_toolchain import AudioProbe


def parse_audio_probe(raw: bytes) -> AudioProbe:
    """Raises ``UnsupportedMedia`` when the file has no audio stream: bad input a retry
    cannot fix, unlike a failing tool (``MediaToolFailed``)."""
    document = read_probe_document(raw)
    audio = next((s for s in document.streams if s.get("codec_type") == "audio"), None)
    if audio is None:
        raise UnsupportedMedia("source has no audio stream")
    codec = audio.get("codec_name")
    return AudioProbe(
        duration_seconds=document.format_seconds or seconds(audio.get("duration")),
        sample_rate=int(seconds(audio.get("sample_rate"))),
        channels=_count(audio.get("channels")),
        codec=codec if isinstance(codec, str) and codec else "unknown",
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
