"""The stage state machine of one ``video:full`` run (worker spec §4.5), as pure functions.

Every recorder returns a new :class:`FullResult` whose ``retry_plan`` is recomputed
from the stages, so a result handed to the job store or a webhook is always
consistent, whichever step the run stopped at.
"""

from __future__ import annotations

import enum

from attrs import evolve, frozen

from vylux_core.errors import FailedStep, IllegalTransition, Step, VyluxError
from vylux_core.jobs.job import JobType
from vylux_core.jobs.results import (
    NO_RETRY_PLAN,
    STAGE_JOB_TYPES,
    Artifacts,
    FullResult,
    FullStage,
    FullStages,
    ImageArtifact,
    RetryPlan,
    RetryStrategy,
    SkipReason,
    Stage,
    StageErrorCode,
    StageStatus,
    StoryboardArtifact,
    TranscodeResult,
)

_PENDING = Stage(StageStatus.PENDING)
_READY = Stage(StageStatus.READY)


class FullFailure(enum.Enum):
    """Each point where a ``video:full`` run can fail; it fixes the stage and error code."""

    SOURCE_DOWNLOAD = "source_download"
    COVER_EXTRACT = "cover_extract"
    COVER_UPLOAD = "cover_upload"
    PREVIEW_GENERATE = "preview_generate"
    PREVIEW_UPLOAD = "preview_upload"
    TRANSCODE_ENCRYPTION = "transcode_encryption"
    TRANSCODE_RUN = "transcode_run"
    TRANSCODE_UPLOAD = "transcode_upload"
    STORYBOARD_GENERATE = "storyboard_generate"
    STORYBOARD_UPLOAD = "storyboard_upload"


@frozen
class _FailurePoint:
    stage: FullStage
    code: StageErrorCode
    step: Step
    """The step the stage's error names (``extract cover: …``)."""
    also: tuple[Step, ...] = ()
    """Further steps whose failure is this one."""


_FAILURE_POINTS: dict[FullFailure, _FailurePoint] = {
    FullFailure.SOURCE_DOWNLOAD: _FailurePoint(
        FullStage.SOURCE, StageErrorCode.DOWNLOAD_FAILED, Step.DOWNLOAD_SOURCE
    ),
    FullFailure.COVER_EXTRACT: _FailurePoint(
        FullStage.COVER, StageErrorCode.EXTRACT_FAILED, Step.EXTRACT_COVER
    ),
    FullFailure.COVER_UPLOAD: _FailurePoint(
        FullStage.COVER, StageErrorCode.UPLOAD_FAILED, Step.UPLOAD_COVER
    ),
    FullFailure.PREVIEW_GENERATE: _FailurePoint(
        FullStage.PREVIEW, StageErrorCode.GENERATE_FAILED, Step.GENERATE_PREVIEW
    ),
    FullFailure.PREVIEW_UPLOAD: _FailurePoint(
        FullStage.PREVIEW, StageErrorCode.UPLOAD_FAILED, Step.UPLOAD_PREVIEW
    ),
    FullFailure.TRANSCODE_ENCRYPTION: _FailurePoint(
        FullStage.TRANSCODE, StageErrorCode.ENCRYPTION_SETUP_FAILED, Step.SETUP_ENCRYPTION
    ),
    FullFailure.TRANSCODE_RUN: _FailurePoint(
        FullStage.TRANSCODE, StageErrorCode.TRANSCODE_FAILED, Step.TRANSCODE
    ),
    # The downloads are muxed from the HLS tree: their upload is the stage's upload.
    FullFailure.TRANSCODE_UPLOAD: _FailurePoint(
        FullStage.TRANSCODE,
        StageErrorCode.UPLOAD_FAILED,
        Step.UPLOAD_HLS,
        also=(Step.UPLOAD_DOWNLOADS,),
    ),
    FullFailure.STORYBOARD_GENERATE: _FailurePoint(
        FullStage.STORYBOARD, StageErrorCode.GENERATE_FAILED, Step.GENERATE_STORYBOARD
    ),
    FullFailure.STORYBOARD_UPLOAD: _FailurePoint(
        FullStage.STORYBOARD, StageErrorCode.UPLOAD_FAILED, Step.UPLOAD_STORYBOARD
    ),
}

_FAILURE_OF_STEP: dict[Step, FullFailure] = {
    step: failure
    for failure, point in _FAILURE_POINTS.items()
    for step in (point.step, *point.also)
}


def failure_of(error: BaseException, default: FullFailure) -> tuple[FullFailure, str]:
    """The failure point a stage's error stands for and its cause (the error's text
    without the step), from the step recorded on it; ``default`` for an error that
    records no step of this workflow."""
    failed = error.step if isinstance(error, VyluxError) else None
    if failed is None:
        return default, str(error)
    return _FAILURE_OF_STEP.get(failed.step, default), failed.cause


# Each failure on the transcode stage names its own retry reason.
_TRANSCODE_RETRY_REASONS: dict[StageErrorCode | None, str] = {
    StageErrorCode.PREPARE_FAILED: "transcode preparation failed",
    StageErrorCode.UPLOAD_FAILED: "transcode upload failed",
}
_TRANSCODE_RETRY_REASON_DEFAULT = "transcode stage failed"


def initial_full_result(*, storyboard: bool = False) -> FullResult:
    """Every stage ``pending`` (the storyboard stage only when the run has it), no
    artifacts, and ``{"allowed":false,"strategy":"none"}``."""
    stages = FullStages(
        source=_PENDING, cover=_PENDING, preview=_PENDING, transcode=_PENDING,
        storyboard=_PENDING if storyboard else None,
    )  # fmt: skip
    return FullResult(stages=stages, artifacts=Artifacts(), retry_plan=NO_RETRY_PLAN)


def record_source_ready(result: FullResult) -> FullResult:
    return _with_stages(result, {FullStage.SOURCE: _READY})


def record_cover_ready(result: FullResult, artifact: ImageArtifact) -> FullResult:
    updated = _with_stages(result, {FullStage.COVER: _READY})
    return evolve(updated, artifacts=evolve(updated.artifacts, cover=artifact))


def record_preview_ready(result: FullResult, artifact: ImageArtifact) -> FullResult:
    updated = _with_stages(result, {FullStage.PREVIEW: _READY})
    return evolve(updated, artifacts=evolve(updated.artifacts, preview=artifact))


def record_transcode_ready(result: FullResult, transcode: TranscodeResult) -> FullResult:
    """The run succeeded: the plan becomes ``{"allowed":false,"strategy":"none"}``."""
    updated = _with_stages(result, {FullStage.TRANSCODE: _READY})
    return evolve(updated, artifacts=evolve(updated.artifacts, transcode=transcode))


def record_storyboard_ready(result: FullResult, artifact: StoryboardArtifact) -> FullResult:
    updated = _with_stages(result, {FullStage.STORYBOARD: _READY})
    return evolve(updated, artifacts=evolve(updated.artifacts, storyboard=artifact))


def record_failure(
    result: FullResult, failure: FullFailure, cause: str | BaseException
) -> FullResult:
    """Mark the failed stage and skip the stages it blocks.

    A source failure skips every later stage; a cover or preview failure skips the
    transcode (it never runs on a partial set of artifacts); the storyboard blocks
    nothing and waits for nothing but the source. The error message is
    ``"<step>: <cause>"``, e.g. ``extract cover: exit status 1``.
    """
    point = _FAILURE_POINTS[failure]
    changes = {
        point.stage: Stage(
            StageStatus.FAILED,
            error_code=point.code,
            error=FailedStep(point.step, str(cause)).message,
            retryable=True,
        )
    }
    if point.stage is FullStage.SOURCE:
        blocked = Stage(StageStatus.SKIPPED, reason=SkipReason.BLOCKED_BY_SOURCE_FAILURE)
        changes |= {
            FullStage.COVER: blocked,
            FullStage.PREVIEW: blocked,
            FullStage.TRANSCODE: blocked,
        }
        if result.stages.storyboard is not None:
            changes[FullStage.STORYBOARD] = blocked
    elif (
        point.stage in (FullStage.COVER, FullStage.PREVIEW)
        # The other image stage may already have skipped it.
        and result.stages.transcode.status is StageStatus.PENDING
    ):
        changes[FullStage.TRANSCODE] = Stage(
            StageStatus.SKIPPED, reason=SkipReason.BLOCKED_BY_FAILED_DEPENDENCIES
        )
    return _with_stages(result, changes)


def failed_stages(result: FullResult) -> tuple[FullStage, ...]:
    """The failed stages, in workflow order."""
    return tuple(stage for stage in FullStage if _failed(result.stages.of(stage)))


def retry_plan_for(result: FullResult) -> RetryPlan:
    """What a manual retry re-runs, from the stage states (worker spec §4.5 table).

    The earliest failure decides: a failed source means nothing else ran. A failed
    storyboard, which blocks nothing, adds its own job type to whichever plan the other
    stages give, or is the whole plan.
    """
    stages = result.stages
    if stages.source.status is StageStatus.FAILED:
        return _plan(
            RetryStrategy.RETRY_JOB, [JobType.FULL], [FullStage.SOURCE], "source download failed"
        )
    storyboard = [FullStage.STORYBOARD] if _failed(stages.storyboard) else []
    failed_images = [
        stage for stage in (FullStage.COVER, FullStage.PREVIEW) if _failed(stages.of(stage))
    ]
    if failed_images:
        # Transcode always follows: it was skipped, so its output is missing too.
        retried = [*failed_images, FullStage.TRANSCODE, *storyboard]
        reason = "cover/preview stage failed"
    elif stages.transcode.status is StageStatus.FAILED:
        retried = [FullStage.TRANSCODE, *storyboard]
        reason = _TRANSCODE_RETRY_REASONS.get(
            stages.transcode.error_code, _TRANSCODE_RETRY_REASON_DEFAULT
        )
    elif storyboard:
        retried, reason = storyboard, "storyboard stage failed"
    else:
        return NO_RETRY_PLAN
    job_types = [STAGE_JOB_TYPES[stage] for stage in retried]
    return _plan(RetryStrategy.RETRY_TASKS, job_types, retried, reason)


def failure_message(result: FullResult) -> str:
    """``jobs.error`` of a failed run: ``video:full failed: [cover preview]``.

    Names are sorted alphabetically, not in workflow order (worker spec §4.5 message).
    """
    names = sorted(stage.value for stage in failed_stages(result))
    if not names:
        return "video:full failed"
    return f"video:full failed: [{' '.join(names)}]"


def _with_stages(result: FullResult, changes: dict[FullStage, Stage]) -> FullResult:
    for stage in changes:
        state = result.stages.of(stage)
        if state is None:
            raise IllegalTransition(f"video:full stage {stage} is not part of this run")
        # Only pending stages move; anything else is a bug in the workflow driving us.
        if state.status is not StageStatus.PENDING:
            raise IllegalTransition(f"video:full stage {stage} is already {state.status}")
    stages = evolve(result.stages, **{stage.value: value for stage, value in changes.items()})
    updated = evolve(result, stages=stages)
    return evolve(updated, retry_plan=retry_plan_for(updated))


def _failed(stage: Stage | None) -> bool:
    return stage is not None and stage.status is StageStatus.FAILED


def _plan(
    strategy: RetryStrategy, job_types: list[JobType], stages: list[FullStage], reason: str
) -> RetryPlan:
    # dict.fromkeys de-duplicates and keeps first-seen order.
    unique_types = tuple(dict.fromkeys(job_types))
    return RetryPlan(
        allowed=bool(unique_types),
        strategy=strategy,
        job_types=unique_types,
        stages=tuple(dict.fromkeys(stages)),
        reason=reason,
    )
