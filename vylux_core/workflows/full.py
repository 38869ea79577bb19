"""FullWorkflow: ``video:full`` — source once, cover and preview together, then transcode;
the storyboard beside all of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from attrs import frozen

from vylux_core.errors import WorkflowFailed
from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import FullOptions, decode_options
from vylux_core.jobs.results import (
    FullResult,
    ImageArtifact,
    StoryboardArtifact,
)
from vylux_core.ports.media_toolchain import HlsEncryption, MediaToolchain
from vylux_core.worker.job_runner import is_permanent
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.base import EncodingWorkflow
from vylux_core.workflows.full_state import (
    FullFailure,
    failure_message,
    failure_of,
    initial_full_result,
    record_cover_ready,
    record_failure,
    record_preview_ready,
    record_source_ready,
    record_storyboard_ready,
    record_transcode_ready,
)
from vylux_core.workflows.transcode import SCRATCH_FACTOR
from vylux_core.workflows.video_steps import (
    TranscodeInputs,
    download_source,
    encryption_for,
    make_cover,
    make_preview,
    make_storyboard,
    source_size,
    transcode,
)


class FullWorkflow(EncodingWorkflow[MediaToolchain]):
    """Stages, artifacts and retry plan as worker spec §4.5/§5.5 define them. A failed run
    raises :class:`WorkflowFailed` carrying the results, so the row keeps the artifacts
    of the stages that succeeded and the plan that ``POST /retry`` follows."""

    async def __call__(self, job: Job, progress: ProgressReporter) -> FullResult:
        options = decode_options(JobType.FULL, job.options)
        assert isinstance(options, FullOptions)
        result = initial_full_result(storyboard=options.storyboard.enabled)
        try:
            size = await source_size(self._source, job.source)
        except Exception as error:
            raise _source_failed(result, error) from error
        try:
            async with self._scratch.task_directory(
                job.id, needed_bytes=SCRATCH_FACTOR * size
            ) as work:
                try:
                    source_path = await download_source(self._source, job.source, work)
                except Exception as error:
                    raise _source_failed(result, error) from error
                run = _Run(job=job, options=options, source_path=source_path, progress=progress)
                result = await self._run_stages(run, result)
        except _StageFailed as failed:
            raise WorkflowFailed(
                failure_message(failed.result),
                results=failed.result,
                permanent=failed.permanent,
            ) from failed.__cause__
        # Anything else (scratch space, a progress write) is not a stage's failure:
        # it propagates as is and the queue retries the whole run.
        return result

    async def _run_stages(self, run: _Run, result: FullResult) -> FullResult:
        result = record_source_ready(result)
        await run.progress.report(5, force=True)
        stages = self._main_stages(run, result)
        if not run.options.storyboard.enabled:
            return await stages
        # The storyboard needs only the source (one decode, scaled to tiles): it runs beside
        # every other stage, the transcode does not wait for it, and it is recorded once
        # both are done.
        main, storyboard = await asyncio.gather(
            stages, self._storyboard(run), return_exceptions=True
        )
        return _record_storyboard(main, storyboard)

    async def _main_stages(self, run: _Run, result: FullResult) -> FullResult:
        """Cover and preview, then the transcode."""
        job, options, progress = run.job, run.options, run.progress
        cover, preview = await asyncio.gather(
            self._cover(run), self._preview(run), return_exceptions=True
        )
        await progress.report(20, force=True)
        result, errors = _record_image_stages(result, cover, preview)
        if errors:
            # One unprocessable source fails both stages alike; either verdict of
            # "permanent" means no retry of this run could succeed.
            permanent = any(is_permanent(error) for error in errors)
            raise _StageFailed(result, permanent=permanent) from errors[0]
        await progress.report(25, force=True)
        try:
            encryption = await self._encryption(run)
        except Exception as error:
            result = record_failure(result, *failure_of(error, FullFailure.TRANSCODE_ENCRYPTION))
            raise _StageFailed(result, permanent=False) from error
        try:
            transcoded = await transcode(
                toolchain=self._toolchain, media=self._media, source=self._source,
                inputs=TranscodeInputs(
                    source_path=run.source_path, media_hash=job.hash, encryption=encryption,
                    max_resolution=options.transcode.max_resolution,
                    downloads=options.transcode.downloads, captions=options.transcode.captions,
                ),
                progress=progress, progress_span=(25, 80),
                upload_concurrency=self._upload_concurrency,
            )  # fmt: skip
        except Exception as error:
            result = record_failure(result, *failure_of(error, FullFailure.TRANSCODE_RUN))
            raise _StageFailed(result, permanent=is_permanent(error)) from error
        await progress.report(95, force=True)
        return record_transcode_ready(result, transcoded)

    async def _cover(self, run: _Run) -> ImageArtifact:
        return await make_cover(
            toolchain=self._toolchain, media=self._media, source_path=run.source_path,
            timestamp=run.options.cover.effective_timestamp(), media_hash=run.job.hash,
        )  # fmt: skip

    async def _preview(self, run: _Run) -> ImageArtifact:
        return await make_preview(
            toolchain=self._toolchain, media=self._media, source_path=run.source_path,
            preview=run.options.preview.effective(), media_hash=run.job.hash,
        )  # fmt: skip

    async def _storyboard(self, run: _Run) -> StoryboardArtifact:
        return await make_storyboard(
            toolchain=self._toolchain, media=self._media, source_path=run.source_path,
            media_hash=run.job.hash,
        )  # fmt: skip

    async def _encryption(self, run: _Run) -> HlsEncryption | None:
        if not run.options.transcode.encrypt:
            return None
        return await encryption_for(self._keys, run.job.hash)


@frozen(kw_only=True)
class _Run:
    """One run's inputs, shared by its stages."""

    job: Job
    options: FullOptions
    source_path: Path
    progress: ProgressReporter


def _source_failed(result: FullResult, error: BaseException) -> WorkflowFailed:
    failed = record_failure(result, *failure_of(error, FullFailure.SOURCE_DOWNLOAD))
    return WorkflowFailed(failure_message(failed), results=failed, permanent=is_permanent(error))


class _StageFailed(Exception):
    def __init__(self, result: FullResult, *, permanent: bool) -> None:
        super().__init__(failure_message(result))
        self.result = result
        self.permanent = permanent


def _record_image_stages(
    result: FullResult,
    cover: ImageArtifact | BaseException,
    preview: ImageArtifact | BaseException,
) -> tuple[FullResult, list[BaseException]]:
    """Record both image stages; neither aborts the other. Returns the
    stages' errors, cover's first."""
    errors: list[BaseException] = []
    steps = (
        (cover, record_cover_ready, FullFailure.COVER_EXTRACT),
        (preview, record_preview_ready, FullFailure.PREVIEW_GENERATE),
    )
    for outcome, record_ready, default_failure in steps:
        if isinstance(outcome, ImageArtifact):
            result = record_ready(result, outcome)
            continue
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        result = record_failure(result, *failure_of(outcome, default_failure))
        errors.append(outcome)
    return result, errors


def _record_storyboard(
    main: FullResult | BaseException, storyboard: StoryboardArtifact | BaseException
) -> FullResult:
    """Record the storyboard on the other stages' outcome. A failed storyboard fails the
    run even when everything else succeeded: its stage then carries the retry plan."""
    for outcome in (main, storyboard):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
    if isinstance(main, _StageFailed):
        result, failed = main.result, main
    elif isinstance(main, BaseException):
        raise main  # not a stage's failure: the queue retries the whole run
    else:
        result, failed = main, None
    if isinstance(storyboard, StoryboardArtifact):
        result = record_storyboard_ready(result, storyboard)
    else:
        result = record_failure(result, *failure_of(storyboard, FullFailure.STORYBOARD_GENERATE))
        if failed is None:
            raise _StageFailed(result, permanent=is_permanent(storyboard)) from storyboard
        permanent = failed.permanent or is_permanent(storyboard)
        raise _StageFailed(result, permanent=permanent) from failed.__cause__
    if failed is not None:
        raise _StageFailed(result, permanent=failed.permanent) from failed.__cause__
    return result
