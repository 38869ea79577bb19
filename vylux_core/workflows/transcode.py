"""TranscodeWorkflow: ``video:transcode`` — the AV1 + H.264 HLS CMAF ladder."""

from __future__ import annotations

import attrs

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import TranscodeOptions, decode_options
from vylux_core.jobs.results import TranscodeResult
from vylux_core.ports.media_toolchain import MediaToolchain
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.scratch_space import ScratchSpace
from vylux_core.services.key_service import KeyService
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.video_steps import (
    TranscodeInputs,
    download_source,
    encryption_for,
    make_storyboard,
    source_size,
    transcode,
)

# Source copy + intermediate encodes + packaged output coexist on disk.
SCRATCH_FACTOR = 3


class TranscodeWorkflow:
    def __init__(
        self,
        *,
        source: ObjectStore,
        media: ObjectStore,
        toolchain: MediaToolchain,
        scratch: ScratchSpace,
        keys: KeyService,
        upload_concurrency: int = 8,
    ) -> None:
        self._source = source
        self._media = media
        self._toolchain = toolchain
        self._scratch = scratch
        self._keys = keys
        self._upload_concurrency = upload_concurrency

    async def __call__(self, job: Job, progress: ProgressReporter) -> TranscodeResult:
        options = decode_options(JobType.TRANSCODE, job.options)
        assert isinstance(options, TranscodeOptions)
        size = await source_size(self._source, job.source)
        async with self._scratch.task_directory(job.id, needed_bytes=SCRATCH_FACTOR * size) as work:
            source_path = await download_source(self._source, job.source, work)
            await progress.report(5, force=True)
            encryption = await encryption_for(self._keys, job.hash) if options.encrypt else None
            await progress.report(10, force=True)
            result = await transcode(
                toolchain=self._toolchain, media=self._media, source=self._source,
                inputs=TranscodeInputs(
                    source_path=source_path, media_hash=job.hash, encryption=encryption,
                    max_resolution=options.max_resolution, downloads=options.downloads,
                    captions=options.captions,
                ),
                progress=progress, progress_span=(10, 75),
                upload_concurrency=self._upload_concurrency,
            )  # fmt: skip
            if options.storyboard:
                storyboard = await make_storyboard(
                    toolchain=self._toolchain, media=self._media, source_path=source_path,
                    media_hash=job.hash,
                )  # fmt: skip
                result = attrs.evolve(result, storyboard=storyboard)
            await progress.report(95, force=True)
        return result
