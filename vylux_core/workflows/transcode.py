"""TranscodeWorkflow: ``video:transcode`` — the AV1 + H.264 HLS CMAF ladder."""

from __future__ import annotations

import attrs

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import TranscodeOptions, decode_options
from vylux_core.jobs.results import TranscodeResult
from vylux_core.ports.media_toolchain import MediaToolchain
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.base import EncodingWorkflow
from vylux_core.workflows.video_steps import TranscodeInputs, make_storyboard, transcode

# Source copy + intermediate encodes + packaged output coexist on disk.
SCRATCH_FACTOR = 3


class TranscodeWorkflow(EncodingWorkflow[MediaToolchain]):
    async def __call__(self, job: Job, progress: ProgressReporter) -> TranscodeResult:
        options = decode_options(JobType.TRANSCODE, job.options)
        assert isinstance(options, TranscodeOptions)
        prepared = self._prepared(
            job, scratch_factor=SCRATCH_FACTOR, encrypt=options.encrypt, progress=progress
        )
        async with prepared as source:
            result = await transcode(
                toolchain=self._toolchain, media=self._media, source=self._source,
                inputs=TranscodeInputs(
                    source_path=source.path, media_hash=job.hash, encryption=source.encryption,
                    max_resolution=options.max_resolution, downloads=options.downloads,
                    captions=options.captions,
                ),
                progress=progress, progress_span=(10, 75),
                upload_concurrency=self._upload_concurrency,
            )  # fmt: skip
            if options.storyboard:
                storyboard = await make_storyboard(
                    toolchain=self._toolchain, media=self._media, source_path=source.path,
                    media_hash=job.hash,
                )  # fmt: skip
                result = attrs.evolve(result, storyboard=storyboard)
            await progress.report(95, force=True)
        return result
