"""CoverWorkflow: ``video:cover`` — one JPEG frame."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import CoverOptions, decode_options
from vylux_core.jobs.results import ImageArtifact
from vylux_core.workflows.base import SingleArtifactWorkflow
from vylux_core.workflows.video_steps import make_cover


class CoverWorkflow(SingleArtifactWorkflow[ImageArtifact]):
    def _producer(self, job: Job) -> Callable[[Path], Awaitable[ImageArtifact]]:
        options = decode_options(JobType.COVER, job.options)
        assert isinstance(options, CoverOptions)
        return lambda source_path: make_cover(
            toolchain=self._toolchain, media=self._media, source_path=source_path,
            timestamp=options.effective_timestamp(), media_hash=job.hash,
        )  # fmt: skip
