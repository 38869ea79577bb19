"""FakeMediaToolchain: a MediaToolchain for unit tests that writes plausible files.

It runs no FFmpeg: probes answer from a configured :class:`MediaProbe`, and outputs
are small placeholder files (starting with their format's signature) laid out exactly
like the real packager's tree. As in the real toolchain, a missing source raises
``MediaToolFailed`` and bad arguments are refused before anything is written. Steps
named in ``failing_steps`` raise ``MediaToolFailed``; with ``unsupported`` set, every
step raises ``UnsupportedMedia`` with that message, as the real toolchain does for a
source it can never process.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from vylux_core.errors import InvalidOptions, MediaToolFailed, UnsupportedMedia
from vylux_core.jobs.options import EffectivePreview
from vylux_core.media.captions import plan_captions
from vylux_core.media.downloads import DownloadKind, download_path
from vylux_core.media.ladder import (
    AUDIO_DIR,
    DASH_MANIFEST,
    IFRAME_PLAYLIST,
    INIT_SEGMENT,
    MAIN_AUDIO_TRACK,
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    SEGMENT_SECONDS,
    text_dir,
    variant_dir,
)
from vylux_core.media.storyboard import StoryboardLayout
from vylux_core.ports.media_toolchain import (
    HlsPackage,
    HlsPlan,
    MediaProbe,
    PackagedCaption,
    PackagedDownload,
    PackagedTrack,
    ProgressCallback,
)

STEPS = ("probe", "cover", "preview", "storyboard", "package")
# The start of each preview format's files: what a reader of the bytes recognises.
_PREVIEW_SIGNATURES = {"gif": b"GIF89a", "webp": b"RIFF\x00\x00\x00\x00WEBP"}


class FakeMediaToolchain:
    def __init__(
        self,
        *,
        probe: MediaProbe,
        failing_steps: frozenset[str] = frozenset(),
        unsupported: str | None = None,
    ) -> None:
        unknown = failing_steps - set(STEPS)
        if unknown:
            raise ValueError(f"unknown steps: {sorted(unknown)}")
        self._probe = probe
        self.failing_steps = set(failing_steps)
        self.unsupported = unsupported

    async def probe(self, source: Path) -> MediaProbe:
        await self._check("probe", source)
        return self._probe

    async def extract_cover(self, source: Path, timestamp_sec: float, destination: Path) -> None:
        await self._check("cover", source)
        await _write(destination, b"\xff\xd8fake-jpeg@%.2f" % timestamp_sec)

    async def render_preview(
        self, source: Path, preview: EffectivePreview, destination: Path
    ) -> None:
        signature = _PREVIEW_SIGNATURES.get(preview.format)
        if signature is None:
            raise InvalidOptions(f"invalid options: unsupported preview format {preview.format!r}")
        await self._check("preview", source)
        await _write(destination, signature + f"fake-{preview.format} {preview.width}px".encode())

    async def render_storyboard(
        self, source: Path, layout: StoryboardLayout, destination: Path
    ) -> None:
        await self._check("storyboard", source)
        await _write(destination, b"\xff\xd8fake-storyboard %d tiles" % layout.count)

    async def package_hls(
        self,
        source: Path,
        plan: HlsPlan,
        work_dir: Path,
        output_dir: Path,
        on_progress: ProgressCallback | None = None,
    ) -> HlsPackage:
        if not plan.variants:
            raise ValueError("the plan has no variants")
        await self._check("package", source)
        segments = max(1, math.ceil(self._probe.duration_seconds / SEGMENT_SECONDS))
        files: list[str] = []
        audio = None
        if plan.include_audio:
            audio = PackagedTrack(
                track_id=MAIN_AUDIO_TRACK.id,
                directory=AUDIO_DIR,
                segment_count=segments,
                bandwidth=MAIN_AUDIO_TRACK.bitrate,
            )
            files += await _write_track(output_dir, AUDIO_DIR, segments)
        video = []
        for variant in plan.variants:
            directory = variant_dir(variant.label)
            files += await _write_track(output_dir, directory, segments)
            iframes = f"{directory}/{IFRAME_PLAYLIST}"
            await _write(output_dir / iframes, b"#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n")
            files.append(iframes)
            video.append(
                PackagedTrack(
                    track_id=variant.label,
                    directory=directory,
                    segment_count=segments,
                    bandwidth=variant.bandwidth_estimate,
                    iframe_playlist=iframes,
                )
            )
            if on_progress is not None:
                on_progress(len(video) / len(plan.variants))
        captions = []
        for caption in plan_captions(plan.captions):
            directory = text_dir(caption.id)
            files += await _write_track(output_dir, directory, 1)
            await _write(output_dir / directory / "seg_1.vtt", caption.text.webvtt.encode())
            files.append(f"{directory}/seg_1.vtt")
            text = caption.text
            captions.append(
                PackagedCaption(
                    id=caption.id, language=text.language, name=text.name,
                    default=text.default, origin=text.origin, directory=directory,
                    segment_count=1,
                )
            )  # fmt: skip
        await _write(output_dir / DASH_MANIFEST, b'<?xml version="1.0"?><MPD/>\n')
        files.append(DASH_MANIFEST)
        await _write(output_dir / MASTER_PLAYLIST, b"#EXTM3U\n")
        files.append(MASTER_PLAYLIST)
        downloads = []
        for kind in plan.downloads:
            if kind is DownloadKind.AUDIO and not plan.include_audio:
                continue
            await _write(output_dir / download_path(kind), f"fake-download {kind}".encode())
            downloads.append(PackagedDownload(kind=kind, file=download_path(kind)))
        return HlsPackage(
            master_playlist=MASTER_PLAYLIST,
            dash_manifest=DASH_MANIFEST,
            audio=audio,
            video=tuple(video),
            files=tuple(files),
            downloads=tuple(downloads),
            captions=tuple(captions),
        )

    async def _check(self, step: str, source: Path) -> None:
        if not await asyncio.to_thread(source.is_file):
            raise MediaToolFailed(f"probe: source file not found: {source.name}")
        if self.unsupported is not None:
            raise UnsupportedMedia(self.unsupported)
        if step in self.failing_steps:
            raise MediaToolFailed(f"{step} failed for {source.name}")


async def _write_track(output_dir: Path, directory: str, segments: int) -> list[str]:
    names = [INIT_SEGMENT, MEDIA_PLAYLIST] + [f"seg_{n}.m4s" for n in range(1, segments + 1)]
    for name in names:
        await _write(output_dir / directory / name, f"{directory}/{name}".encode())
    return [f"{directory}/{name}" for name in names]


async def _write(path: Path, data: bytes) -> None:
    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    await asyncio.to_thread(write)
