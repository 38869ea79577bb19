"""FfmpegAudioToolchain: the AudioToolchain port on FFmpeg, ffprobe and Shaka Packager."""

from __future__ import annotations

import asyncio
import shutil
from array import array
from pathlib import Path
from typing import Final

from vylux_adapters.media.audio_probe import parse_audio_probe
from vylux_adapters.media.binaries import MediaBinaries
from vylux_adapters.media.ffmpeg_args import audio_encode_args, m4a_remux_args
from vylux_adapters.media.hls_output import finish_dash_manifest, peak_bitrate
from vylux_adapters.media.packager_args import audio_packager_args, packager_encryption
from vylux_adapters.media.probe import run_ffprobe
from vylux_adapters.media.process import FFMPEG_BASE_ARGS, run_tool
from vylux_adapters.media.progress import ProgressLines
from vylux_core.errors import MediaToolFailed
from vylux_core.media.audio_renditions import AudioDownloadKind, audio_download_path
from vylux_core.media.ladder import DASH_MANIFEST, MASTER_PLAYLIST
from vylux_core.media.waveform import WAVEFORM_SAMPLE_RATE, PeakAccumulator, Waveform
from vylux_core.ports.audio_toolchain import (
    AudioDownloadFile,
    AudioPackage,
    AudioPlan,
    AudioProbe,
)
from vylux_core.ports.media_toolchain import PackagedTrack, ProgressCallback

# The packager gets the last slice of the progress and completes it at exit.
ENCODE_SHARE: Final = 0.9


class FfmpegAudioToolchain:
    """Runs the tools as child processes, one at a time per call."""

    def __init__(self, *, binaries: MediaBinaries) -> None:
        self._binaries = binaries

    async def probe_audio(self, source: Path) -> AudioProbe:
        return parse_audio_probe(await run_ffprobe(self._binaries.ffprobe, source))

    async def package_audio(
        self,
        source: Path,
        plan: AudioPlan,
        work_dir: Path,
        output_dir: Path,
        on_progress: ProgressCallback | None = None,
    ) -> AudioPackage:
        packager, secrets = self._packager_argv(plan, work_dir, output_dir)
        probe = await self.probe_audio(source)
        await asyncio.to_thread(_fresh_dirs, work_dir, output_dir)
        encode = audio_encode_args(
            str(source), str(work_dir), str(output_dir), plan.renditions, plan.downloads,
            source_sample_rate=probe.sample_rate,
        )  # fmt: skip
        argv = [self._binaries.ffmpeg, *FFMPEG_BASE_ARGS, "-nostats"]
        on_stdout = None
        if on_progress is not None and probe.duration_seconds > 0:
            argv += ["-progress", "pipe:1"]
            duration = probe.duration_seconds

            def seconds(done: float) -> None:
                on_progress(ENCODE_SHARE * min(1.0, done / duration))

            on_stdout = ProgressLines(seconds).feed
        try:
            await run_tool("ffmpeg", [*argv, *encode], on_stdout=on_stdout)
        except MediaToolFailed as exc:
            raise MediaToolFailed(f"encode audio: {exc}") from exc
        await run_tool("packager", packager, secrets=secrets)
        await asyncio.to_thread(
            finish_dash_manifest, output_dir, encrypted=plan.encryption is not None
        )
        if AudioDownloadKind.M4A in plan.downloads:
            remux = m4a_remux_args(str(work_dir), str(output_dir), plan.renditions[0])
            try:
                await run_tool("ffmpeg", [self._binaries.ffmpeg, *FFMPEG_BASE_ARGS, *remux])
            except MediaToolFailed as exc:
                raise MediaToolFailed(f"remux download m4a: {exc}") from exc
        package = await asyncio.to_thread(_describe, output_dir, plan)
        if on_progress is not None:
            on_progress(1.0)
        return package

    async def waveform(self, source: Path, bins: int) -> Waveform:
        """Decodes to 16-bit mono at WAVEFORM_SAMPLE_RATE through a pipe: the samples are
        folded into peaks as they arrive, never held whole."""
        probe = await self.probe_audio(source)
        peaks = PeakAccumulator(
            bins=bins,
            expected_samples=round(probe.duration_seconds * WAVEFORM_SAMPLE_RATE),
            sample_rate=WAVEFORM_SAMPLE_RATE,
        )
        odd = bytearray()  # a sample split across two pipe reads

        def feed(chunk: bytes) -> None:
            data = bytes(odd) + chunk
            usable = len(data) - len(data) % 2
            odd[:] = data[usable:]
            samples = array("h")
            samples.frombytes(data[:usable])
            peaks.feed(samples)

        argv = [
            self._binaries.ffmpeg, *FFMPEG_BASE_ARGS, "-i", str(source), "-map", "0:a:0",
            "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(WAVEFORM_SAMPLE_RATE),
            "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1",
        ]  # fmt: skip
        try:
            await run_tool("ffmpeg", argv, on_stdout=feed)
        except MediaToolFailed as exc:
            raise MediaToolFailed(f"decode waveform: {exc}") from exc
        return peaks.finish()

    def _packager_argv(
        self, plan: AudioPlan, work_dir: Path, output_dir: Path
    ) -> tuple[list[str], tuple[str, ...]]:
        encryption, secrets = packager_encryption(plan.encryption)
        try:
            args = audio_packager_args(
                str(work_dir), str(output_dir), plan.renditions, encryption=encryption
            )
        except ValueError as exc:
            raise MediaToolFailed(f"package audio: {exc}") from exc
        return [self._binaries.packager, "--quiet", *args], secrets


def _fresh_dirs(work_dir: Path, output_dir: Path) -> None:
    # A re-run after a crash must not list (and upload) a stale file of an earlier attempt.
    for path in (work_dir, output_dir):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    (output_dir / audio_download_path(AudioDownloadKind.MP3)).parent.mkdir()


def _describe(output_dir: Path, plan: AudioPlan) -> AudioPackage:
    """Walk ``output_dir`` after the packager ran (blocking file I/O: call it in a thread)."""
    for manifest in (MASTER_PLAYLIST, DASH_MANIFEST):
        if not (output_dir / manifest).is_file():
            raise MediaToolFailed(f"packager: {manifest} was not written")
    downloads = tuple(
        AudioDownloadFile(kind=kind, file=audio_download_path(kind)) for kind in plan.downloads
    )
    for download in downloads:
        written = output_dir / download.file
        if not written.is_file() or written.stat().st_size == 0:
            raise MediaToolFailed(f"ffmpeg: the {download.kind} download is empty")
    skip = {download.file for download in downloads}
    files = sorted(
        relative
        for relative in (p.relative_to(output_dir).as_posix() for p in output_dir.rglob("*"))
        if (output_dir / relative).is_file() and relative not in skip
    )
    files.remove(MASTER_PLAYLIST)
    files.append(MASTER_PLAYLIST)
    tracks = []
    for rendition in plan.renditions:
        track_dir = output_dir / rendition.directory
        segments = sum(1 for _ in track_dir.glob("seg_*.m4s")) if track_dir.is_dir() else 0
        if segments == 0:
            raise MediaToolFailed(f"packager: no segments for track {rendition.id}")
        tracks.append(
            PackagedTrack(
                track_id=rendition.id, directory=rendition.directory, segment_count=segments,
                bandwidth=peak_bitrate(track_dir) or rendition.bitrate,
            )
        )  # fmt: skip
    return AudioPackage(
        master_playlist=MASTER_PLAYLIST,
        dash_manifest=DASH_MANIFEST,
        tracks=tuple(tracks),
        files=tuple(files),
        downloads=downloads,
    )
