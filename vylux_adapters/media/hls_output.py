"""Describing a packaged CMAF tree (HLS playlists and a DASH manifest): its files, segment
counts and measured track bitrates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs

from vylux_core.errors import MediaToolFailed
from vylux_core.media.captions import PlannedCaption
from vylux_core.media.dash_manifest import (
    NoProtectionDescriptor,
    number_in_document_order,
    signal_clearkey,
)
from vylux_core.media.ladder import (
    AUDIO_DIR,
    DASH_MANIFEST,
    IFRAME_PLAYLIST,
    MAIN_AUDIO_TRACK,
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    text_dir,
    variant_dir,
)
from vylux_core.ports.media_toolchain import HlsPackage, HlsPlan, PackagedCaption, PackagedTrack

_SEGMENT_GLOB = "seg_*.m4s"


def describe_package(output_dir: Path, plan: HlsPlan) -> HlsPackage:
    """Walk ``output_dir`` after the packager ran (blocking file I/O: call it in a thread).

    ``files`` are relative POSIX paths in lexical order, except the master playlist last.

    Raises ``MediaToolFailed`` when the master playlist, the DASH manifest, any track's
    segments or a video track's I-frame playlist are missing, which means the packager
    exited 0 without doing its job.
    """
    for manifest in (MASTER_PLAYLIST, DASH_MANIFEST):
        if not (output_dir / manifest).is_file():
            raise MediaToolFailed(f"packager: {manifest} was not written")
    # Master playlist last: an uploader that follows this order never publishes a master
    # whose tracks are not there yet.
    files = sorted(
        path.relative_to(output_dir).as_posix() for path in output_dir.rglob("*") if path.is_file()
    )
    files.remove(MASTER_PLAYLIST)
    files.append(MASTER_PLAYLIST)
    audio = None
    if plan.include_audio:
        audio = _track(output_dir, MAIN_AUDIO_TRACK.id, AUDIO_DIR, MAIN_AUDIO_TRACK.bitrate)
    video = tuple(
        _video_track(output_dir, variant.label, variant.bandwidth_estimate)
        for variant in plan.variants
    )
    return HlsPackage(
        master_playlist=MASTER_PLAYLIST,
        dash_manifest=DASH_MANIFEST,
        audio=audio,
        video=video,
        files=tuple(files),
    )


def describe_captions(
    output_dir: Path, captions: Sequence[PlannedCaption]
) -> tuple[PackagedCaption, ...]:
    """The packaged subtitles tracks (blocking file I/O: call it in a thread). Raises
    ``MediaToolFailed`` when a track's playlist, WebVTT segments or fMP4 segments are
    missing."""
    packaged = []
    for caption in captions:
        directory = text_dir(caption.id)
        track_dir = output_dir / directory
        hls_segments = sum(1 for _ in track_dir.glob("seg_*.vtt")) if track_dir.is_dir() else 0
        dash_segments = sum(1 for _ in track_dir.glob(_SEGMENT_GLOB)) if track_dir.is_dir() else 0
        if not (track_dir / MEDIA_PLAYLIST).is_file() or not hls_segments or not dash_segments:
            raise MediaToolFailed(f"packager: no segments for subtitles {caption.id}")
        text = caption.text
        packaged.append(
            PackagedCaption(
                id=caption.id, language=text.language, name=text.name, default=text.default,
                origin=text.origin, directory=directory, segment_count=hls_segments,
            )
        )  # fmt: skip
    return tuple(packaged)


def finish_dash_manifest(output_dir: Path, *, encrypted: bool) -> None:
    """Give the packaged DASH manifest stable ids and, when ``encrypted``, the DASH-IF
    ClearKey descriptor (blocking file I/O: call it in a thread); see
    :mod:`vylux_core.media.dash_manifest`.

    Raises ``MediaToolFailed`` when the manifest is missing, or is meant to be encrypted
    and carries no protection.
    """
    manifest = output_dir / DASH_MANIFEST
    try:
        text = number_in_document_order(manifest.read_text(encoding="utf-8"))
        manifest.write_text(signal_clearkey(text) if encrypted else text, encoding="utf-8")
    except FileNotFoundError:
        raise MediaToolFailed(f"packager: {DASH_MANIFEST} was not written") from None
    except NoProtectionDescriptor as exc:
        raise MediaToolFailed(f"packager: {exc}") from None


def _video_track(output_dir: Path, label: str, fallback: int) -> PackagedTrack:
    track = _track(output_dir, label, variant_dir(label), fallback)
    iframes = f"{track.directory}/{IFRAME_PLAYLIST}"
    if not (output_dir / iframes).is_file():
        raise MediaToolFailed(f"packager: no I-frame playlist for track {label}")
    return attrs.evolve(track, iframe_playlist=iframes)


def _track(output_dir: Path, track_id: str, directory: str, fallback: int) -> PackagedTrack:
    track_dir = output_dir / directory
    segments = sum(1 for _ in track_dir.glob(_SEGMENT_GLOB)) if track_dir.is_dir() else 0
    if segments == 0:
        raise MediaToolFailed(f"packager: no segments for track {track_id}")
    return PackagedTrack(
        track_id=track_id,
        directory=directory,
        segment_count=segments,
        bandwidth=peak_bitrate(track_dir) or fallback,
    )


def peak_bitrate(track_dir: Path) -> int:
    """Highest segment bitrate (bit/s) in the track's media playlist, 0 when unknown.

    Measured here rather than read from the master playlist: there BANDWIDTH is video plus
    audio.
    HLS defines BANDWIDTH as the peak segment bitrate, so this matches its meaning per track.
    """
    playlist = track_dir / MEDIA_PLAYLIST
    if not playlist.is_file():
        return 0
    peak = 0.0
    duration: float | None = None
    for raw in playlist.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("#EXTINF:"):
            duration = _extinf_seconds(line)
        elif line and not line.startswith("#") and duration:
            segment = track_dir / line
            if segment.is_file():
                peak = max(peak, segment.stat().st_size * 8 / duration)
            duration = None
    return round(peak)


def _extinf_seconds(line: str) -> float | None:
    try:
        seconds = float(line.removeprefix("#EXTINF:").split(",", 1)[0])
    except ValueError:
        return None
    return seconds if seconds > 0 else None
