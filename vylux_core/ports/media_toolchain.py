"""MediaToolchain port: probing, covers, previews and HLS packaging of video files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from attrs import field, frozen

from vylux_core.jobs.options import EffectivePreview
from vylux_core.media.captions import CaptionOrigin, CaptionText
from vylux_core.media.downloads import DownloadKind
from vylux_core.media.dynamic_range import DynamicRange
from vylux_core.media.ladder import Variant
from vylux_core.media.storyboard import StoryboardLayout

ProgressCallback = Callable[[float], None]
"""Called with the fraction done (0.0-1.0) of a long step; must not block."""


@frozen(kw_only=True)
class MediaProbe:
    """``width``/``height`` are the display size (rotation already applied);
    ``rotation`` is normalised to 0, 90, 180 or 270; ``dynamic_range`` says whether the
    video must be tone-mapped to SDR (HLG, PQ)."""

    width: int
    height: int
    rotation: int
    duration_seconds: float
    frame_rate: float
    has_audio: bool
    dynamic_range: DynamicRange = DynamicRange.SDR


@frozen(kw_only=True)
class HlsEncryption:
    key_hex: str = field(repr=False)
    kid_hex: str
    key_uri: str


@frozen(kw_only=True)
class HlsPlan:
    variants: tuple[Variant, ...]
    include_audio: bool
    frame_rate: float
    encryption: HlsEncryption | None = None
    # The source's range: HLG and PQ are tone-mapped to SDR BT.709 before scaling.
    dynamic_range: DynamicRange = DynamicRange.SDR
    # MP4 downloads remuxed from the encodes (no second encode); ``AUDIO`` needs audio.
    downloads: tuple[DownloadKind, ...] = ()
    # Sidecar captions, already WebVTT; the source's own text tracks are added to them.
    captions: tuple[CaptionText, ...] = ()


@frozen(kw_only=True)
class PackagedDownload:
    """A download; ``file`` is relative to the output directory and not in ``files``."""

    kind: DownloadKind
    file: str


@frozen(kw_only=True)
class PackagedCaption:
    """A subtitles track; ``directory`` (``text/{id}``) is relative to the output directory
    and holds the HLS playlist and WebVTT segments and the DASH ``init.mp4`` + ``.m4s``."""

    id: str
    language: str
    name: str
    default: bool
    origin: CaptionOrigin
    directory: str
    segment_count: int


@frozen(kw_only=True)
class PackagedTrack:
    """A packaged track; ``directory`` is relative to the output directory and
    ``bandwidth`` the measured peak bit rate of this track alone (bits/s);
    ``iframe_playlist`` (video tracks) is the I-frame playlist, relative to the output
    directory."""

    track_id: str
    directory: str
    segment_count: int
    bandwidth: int
    iframe_playlist: str | None = None


@frozen(kw_only=True)
class HlsPackage:
    """``files`` are relative to the output directory, ``master.m3u8`` last; the DASH
    manifest ``dash_manifest`` describes the same segments as the playlists."""

    master_playlist: str
    dash_manifest: str
    audio: PackagedTrack | None
    video: tuple[PackagedTrack, ...]
    files: tuple[str, ...]
    downloads: tuple[PackagedDownload, ...] = ()
    captions: tuple[PackagedCaption, ...] = ()


class MediaToolchain(Protocol):
    """Tool failures raise ``MediaToolFailed`` with a bounded message. A source that can
    never become video raises ``UnsupportedMedia`` (a permanent failure) from every
    method, before any encode starts, with one of these messages:

    - ``source is not a media file: <the prober's reason>``
    - ``source has no video stream``
    - ``source is not a video (<image type>)``: one still picture (JPEG, PNG, WebP …)
    - ``unsupported codec: <codec> (no decoder)``: the configured FFmpeg has no software
      decoder for the video stream's codec

    Cancelling the awaiting task stops the child processes."""

    async def probe(self, source: Path) -> MediaProbe: ...

    async def extract_cover(self, source: Path, timestamp_sec: float, destination: Path) -> None:
        """Write one JPEG frame at ``timestamp_sec`` (clamped into the video's length);
        an empty result is a failure."""
        ...

    async def render_preview(
        self, source: Path, preview: EffectivePreview, destination: Path
    ) -> None:
        """Write an animated WebP or GIF clip; an empty result is a failure."""
        ...

    async def render_storyboard(
        self, source: Path, layout: StoryboardLayout, destination: Path
    ) -> None:
        """Write the JPEG sprite of ``layout``: tile ``i`` is the frame at
        ``layout.start(i)``, scaled to the tile size, at ``layout.position(i)``."""
        ...

    async def package_hls(
        self,
        source: Path,
        plan: HlsPlan,
        work_dir: Path,
        output_dir: Path,
        on_progress: ProgressCallback | None = None,
    ) -> HlsPackage:
        """Encode the plan's variants (and audio) and package them as HLS CMAF; write the
        plan's downloads (``downloads/…`` under ``output_dir``) by remuxing the encodes:
        ``HIGHEST`` is the top H.264 rung plus the audio, ``AUDIO`` the audio alone, skipped
        when the source has none. Subtitles: the plan's captions, then the source's own
        text tracks (mov_text, subrip, webvtt, ass) converted to WebVTT, in the master
        playlist's SUBTITLES group and as DASH text adaptation sets."""
        ...
