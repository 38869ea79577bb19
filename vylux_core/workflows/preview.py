"""PreviewWorkflow: ``video:preview`` — a short animated WebP or GIF."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import PreviewOptions, decode_options
from vylux_core.jobs.results import ImageArtifact
from vylux_core.workflows.base import SingleArtifactWorkflow
from vylux_core.workflows.video_steps import make_preview


class PreviewWorkflow(SingleArtifactWorkflow[ImageArtifact]):
    def _producer(self, job: Job) -> Callable[[Path], Awaitable[ImageArtifact]]:
        options = decode_options(JobType.PREVIEW, job.options)
        assert isinstance(options, PreviewOptions)
        return lambda source_path: make_preview(
            toolchain=self._toolchain, media=self._media, source_path=source_path,
            preview=options.effective(), media_hash=job.hash,
        )  # fmt: skip
