"""AudioToolchain port: probing, encoding and packaging the audio of a source, and its
waveform."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from attrs import frozen

from vylux_core.media.audio_renditions import AudioDownloadKind, AudioRendition
from vylux_core.media.waveform import Waveform
from vylux_core.ports.media_toolchain import HlsEncryption, PackagedTrack, ProgressCallback


@frozen(kw_only=True)
class AudioProbe:
    """The first audio stream of a source (an audio file or a video's sound track)."""

    duration_seconds: float
    sample_rate: int
    channels: int
    codec: str


@frozen(kw_only=True)
class AudioPlan:
    renditions: tuple[AudioRendition, ...]
    encryption: HlsEncryption | None = None
    downloads: tuple[AudioDownloadKind, ...] = ()


@frozen(kw_only=True)
class AudioDownloadFile:
    """A written download; ``file`` is relative to the output directory."""

    kind: AudioDownloadKind
    file: str


@frozen(kw_only=True)
class AudioPackage:
    """``files`` (the CMAF tree) are relative to the output directory, ``master.m3u8``
    last; ``tracks`` follow the plan's renditions; downloads are not in ``files``."""

    master_playlist: str
    dash_manifest: str
    tracks: tuple[PackagedTrack, ...]
    files: tuple[str, ...]
    downloads: tuple[AudioDownloadFile, ...] = ()


class AudioToolchain(Protocol):
    """Tool failures raise ``MediaToolFailed`` with a bounded message. A source whose
    audio can never be read raises ``UnsupportedMedia`` (permanent) from every method,
    before any encode starts: ``source is not a media file (…)`` or ``source has no audio
    stream``. Cancelling the awaiting task stops the child processes."""

    async def probe_audio(self, source: Path) -> AudioProbe: ...

    async def package_audio(
        self,
        source: Path,
        plan: AudioPlan,
        work_dir: Path,
        output_dir: Path,
        on_progress: ProgressCallback | None = None,
    ) -> AudioPackage:
        """Encode the renditions (and the MP3/FLAC downloads) from one decode, package the
        renditions as HLS + DASH CMAF into ``output_dir`` (which should start empty) and
        write the downloads under ``output_dir/downloads/``; the M4A is a remux of the
        first rendition."""
        ...

    async def waveform(self, source: Path, bins: int) -> Waveform:
        """Peaks of the first audio stream, downmixed to mono, in ``bins`` bins."""
        ...
