"""StoryboardWorkflow: ``video:storyboard`` — video:full's storyboard stage on its own."""

from __future__ import annotations

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import decode_options
from vylux_core.jobs.results import StoryboardArtifact
from vylux_core.ports.media_toolchain import MediaToolchain
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.scratch_space import ScratchSpace
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.video_steps import make_storyboard, single_artifact


class StoryboardWorkflow:
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

    async def __call__(self, job: Job, progress: ProgressReporter) -> StoryboardArtifact:
        decode_options(JobType.STORYBOARD, job.options)  # stored options must still decode
        artifact = await single_artifact(
            job=job, source=self._source, scratch=self._scratch, progress=progress,
            produce=lambda source_path: make_storyboard(
                toolchain=self._toolchain, media=self._media, source_path=source_path,
                media_hash=job.hash,
            ),
        )  # fmt: skip
        return artifact
