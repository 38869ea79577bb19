"""StoryboardWorkflow: ``video:storyboard`` — video:full's storyboard stage on its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import decode_options
from vylux_core.jobs.results import StoryboardArtifact
from vylux_core.workflows.base import SingleArtifactWorkflow
from vylux_core.workflows.video_steps import make_storyboard


class StoryboardWorkflow(SingleArtifactWorkflow[StoryboardArtifact]):
    def _producer(self, job: Job) -> Callable[[Path], Awaitable[StoryboardArtifact]]:
        decode_options(JobType.STORYBOARD, job.options)  # stored options must still decode
        return lambda source_path: make_storyboard(
            toolchain=self._toolchain, media=self._media, source_path=source_path,
            media_hash=job.hash,
        )  # fmt: skip
