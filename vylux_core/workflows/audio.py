"""AudioTranscodeWorkflow: ``audio:transcode`` — an audio-only AAC HLS/DASH stream, with
optional downloads and a waveform."""

from __future__ import annotations

from pathlib import Path

import attrs

from vylux_core.errors import Step
from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import AudioTranscodeOptions, decode_options
from vylux_core.jobs.results import (
    AudioTrack,
    AudioTranscodeResult,
    DownloadArtifact,
    EncryptionInfo,
    StreamingInfo,
    WaveformArtifact,
)
from vylux_core.media.audio_renditions import (
    AUDIO_ONLY_DIR,
    AUDIO_RENDITIONS,
    WAVEFORM_FILE,
    AudioDownloadKind,
)
from vylux_core.media.ladder import INIT_SEGMENT, MEDIA_PLAYLIST
from vylux_core.media.mime_types import OCTET_STREAM, content_type_for
from vylux_core.media.storage_keys import audio_only_key
from vylux_core.media.waveform import waveform_json
from vylux_core.ports.audio_toolchain import AudioPackage, AudioPlan, AudioToolchain
from vylux_core.ports.media_toolchain import HlsEncryption
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.base import EncodingWorkflow
from vylux_core.workflows.hls_upload import upload_hls_tree
from vylux_core.workflows.video_steps import relayed, step_error

# Source copy + AAC encodes + packaged tree + downloads, in source sizes.
SCRATCH_FACTOR = 4
# A lossless download of a lossy source: CD-quality FLAC runs near 900 kbit/s, about
# seven times a 128 kbit/s MP3.
FLAC_SCRATCH_FACTOR = 12


class AudioTranscodeWorkflow(EncodingWorkflow[AudioToolchain]):
    async def __call__(self, job: Job, progress: ProgressReporter) -> AudioTranscodeResult:
        options = decode_options(JobType.AUDIO_TRANSCODE, job.options)
        assert isinstance(options, AudioTranscodeOptions)
        factor = (
            FLAC_SCRATCH_FACTOR if AudioDownloadKind.FLAC in options.downloads else SCRATCH_FACTOR
        )
        prepared = self._prepared(
            job, scratch_factor=factor, encrypt=options.encrypt, progress=progress
        )
        async with prepared as source:
            encryption = source.encryption
            plan = AudioPlan(
                renditions=AUDIO_RENDITIONS, encryption=encryption, downloads=options.downloads
            )
            package = await self._package(source.path, plan, progress)
            result = await self._upload(job.hash, source.work / "out", package, encryption)
            await progress.report(85, force=True)
            if options.waveform is not None:
                waveform = await self._waveform(source.path, job.hash, options.waveform.bins)
                result = attrs.evolve(result, waveform=waveform)
            await progress.report(95, force=True)
        return result

    async def _package(
        self, source_path: Path, plan: AudioPlan, progress: ProgressReporter
    ) -> AudioPackage:
        work = source_path.parent
        try:
            async with relayed(progress, (10, 70)) as report:
                return await self._toolchain.package_audio(
                    source_path, plan, work / "encoded", work / "out", on_progress=report
                )
        except Exception as error:
            raise step_error(Step.TRANSCODE_AUDIO, error) from error

    async def _upload(
        self,
        media_hash: str,
        root: Path,
        package: AudioPackage,
        encryption: HlsEncryption | None,
    ) -> AudioTranscodeResult:
        try:
            await upload_hls_tree(
                media=self._media, media_hash=media_hash, root=root, files=package.files,
                concurrency=self._upload_concurrency, under=AUDIO_ONLY_DIR,
            )  # fmt: skip
        except Exception as error:
            raise step_error(Step.UPLOAD_HLS, error) from error
        downloads = []
        try:
            for download in package.downloads:
                kind, file = download.kind.value, download.file
                downloads.append(await self._upload_download(media_hash, root, kind, file))
        except Exception as error:
            raise step_error(Step.UPLOAD_DOWNLOADS, error) from error
        return _result(media_hash, package, encryption, tuple(downloads))

    async def _upload_download(
        self, media_hash: str, root: Path, kind: str, file: str
    ) -> DownloadArtifact:
        key = audio_only_key(media_hash, file)
        content_type = content_type_for(file) or OCTET_STREAM
        await self._media.upload_file(key, root / file, content_type=content_type)
        size = (await self._media.stat(key)).size
        return DownloadArtifact(kind=kind, key=key, format=kind, size=size)

    async def _waveform(self, source_path: Path, media_hash: str, bins: int) -> WaveformArtifact:
        try:
            waveform = await self._toolchain.waveform(source_path, bins)
        except Exception as error:
            raise step_error(Step.GENERATE_WAVEFORM, error) from error
        key = audio_only_key(media_hash, WAVEFORM_FILE)
        try:
            await self._media.put_bytes(
                key, waveform_json(waveform).encode(), content_type="application/json"
            )
        except Exception as error:
            raise step_error(Step.UPLOAD_WAVEFORM, error) from error
        return WaveformArtifact(
            key=key, bins=len(waveform.peaks), sample_rate=waveform.sample_rate,
            duration=waveform.duration,
        )  # fmt: skip


def _result(
    media_hash: str,
    package: AudioPackage,
    encryption: HlsEncryption | None,
    downloads: tuple[DownloadArtifact, ...],
) -> AudioTranscodeResult:
    tracks = tuple(
        AudioTrack(
            id=rendition.id, role=rendition.role, language=rendition.language,
            codec=rendition.codec, channels=rendition.channels, bitrate=packaged.bandwidth,
            playlist=audio_only_key(media_hash, f"{packaged.directory}/{MEDIA_PLAYLIST}"),
            init=audio_only_key(media_hash, f"{packaged.directory}/{INIT_SEGMENT}"),
            segment_count=packaged.segment_count,
        )
        for rendition, packaged in zip(AUDIO_RENDITIONS, package.tracks, strict=True)
    )  # fmt: skip
    info = None
    if encryption is not None:
        kid, endpoint = encryption.kid_hex, encryption.key_uri
        info = EncryptionInfo(scheme="cbcs", kid=kid, key_endpoint=endpoint)
    return AudioTranscodeResult(
        streaming=StreamingInfo(
            encrypted=info is not None,
            master_playlist=audio_only_key(media_hash, package.master_playlist),
            dash_manifest=audio_only_key(media_hash, package.dash_manifest),
            default_audio_track_id=tracks[0].id,
        ),
        audio_tracks=tracks,
        encryption=info,
        downloads=downloads,
    )
