"""What the workflows that read a stored source into scratch space hold and how they
start: one constructor and one opening for every video and audio job type."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Generic, TypeVar

from attrs import define, frozen

from vylux_core.jobs.job import Job
from vylux_core.ports.media_toolchain import HlsEncryption, MediaToolchain
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.scratch_space import ScratchSpace
from vylux_core.services.key_service import KeyService
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.video_steps import download_source, encryption_for, source_size

_Toolchain = TypeVar("_Toolchain")
_Artifact = TypeVar("_Artifact")


# attrs writes the keyword-only constructors (``source=``, ``media=`` …); the subclasses
# add their fields. Workflows compare by identity.
@define(kw_only=True, eq=False, repr=False)
class SourceWorkflow(Generic[_Toolchain]):
    """Reads ``job.source`` from ``source`` into ``scratch``, works on it with
    ``toolchain`` and stores what it makes in ``media``."""

    _source: ObjectStore
    _media: ObjectStore
    _toolchain: _Toolchain
    _scratch: ScratchSpace


class SingleArtifactWorkflow(SourceWorkflow[MediaToolchain], Generic[_Artifact]):
    """``video:cover``, ``video:preview`` and ``video:storyboard``: download the source
    into a scratch directory (30 %), produce one artifact from it (70 %)."""

    async def __call__(self, job: Job, progress: ProgressReporter) -> _Artifact:
        produce = self._producer(job)  # the options decode before any download
        size = await source_size(self._source, job.source)
        async with self._scratch.task_directory(job.id, needed_bytes=size) as work:
            source_path = await download_source(self._source, job.source, work)
            await progress.report(30, force=True)
            artifact = await produce(source_path)
            await progress.report(70, force=True)
        return artifact

    def _producer(self, job: Job) -> Callable[[Path], Awaitable[_Artifact]]:
        raise NotImplementedError


@frozen
class PreparedSource:
    work: Path
    path: Path
    encryption: HlsEncryption | None


@define(kw_only=True, eq=False, repr=False)
class EncodingWorkflow(SourceWorkflow[_Toolchain]):
    """A workflow that packages HLS: it may encrypt with a key from ``keys`` and uploads
    the packaged tree ``upload_concurrency`` files at a time."""

    _keys: KeyService
    _upload_concurrency: int = 8

    @contextlib.asynccontextmanager
    async def _prepared(
        self, job: Job, *, scratch_factor: int, encrypt: bool, progress: ProgressReporter
    ) -> AsyncIterator[PreparedSource]:
        """The source in a scratch directory of ``scratch_factor`` source sizes (5 %),
        then its encryption key when the job asks for one (10 %)."""
        size = await source_size(self._source, job.source)
        async with self._scratch.task_directory(job.id, needed_bytes=scratch_factor * size) as work:
            path = await download_source(self._source, job.source, work)
            await progress.report(5, force=True)
            encryption = await encryption_for(self._keys, job.hash) if encrypt else None
            await progress.report(10, force=True)
            yield PreparedSource(work=work, path=path, encryption=encryption)
