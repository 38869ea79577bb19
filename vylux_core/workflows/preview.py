"""PreviewWorkflow: ``video:preview`` — a short animated WebP or GIF."""

from __future__ import annotations

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import PreviewOptions, decode_options
from vylux_core.jobs.results import ImageArtifact
from vylux_core.ports.media_toolchain import MediaToolchain
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.scratch_space import ScratchSpace
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.video_steps import make_preview, single_artifact


class PreviewWorkflow:
    def __init__(
        self,
        *,
        source: ObjectStore,
        media: ObjectStore,
        toolchain: MediaToolchain,
        scratch: ScratchSpace,
    ) -> None:
        self._source = source
        self._media = media
        self._toolchain = toolchain
        self._scratch = scratch

    async def __call__(self, job: Job, progress: ProgressReporter) -> ImageArtifact:
        options = decode_options(JobType.PREVIEW, job.options)
        assert isinstance(options, PreviewOptions)
        artifact = await single_artifact(
            job=job, source=self._source, scratch=self._scratch, progress=progress,
            produce=lambda source_path: make_preview(
                toolchain=self._toolchain, media=self._media, source_path=source_path,
                preview=options.effective(), media_hash=job.hash,
            ),
        )  # fmt: skip
        return artifact
