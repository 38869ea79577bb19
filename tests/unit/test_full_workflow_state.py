"""video:full stage state machine: every row of the §4.5 retry-plan table, and jobs.error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vylux_core.errors import IllegalTransition
from vylux_core.jobs.job import JobType
from vylux_core.jobs.results import (
    NO_RETRY_PLAN,
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
    StreamingInfo,
    TranscodeResult,
)
from vylux_core.workflows.full_state import (
    FullFailure,
    failure_message,
    initial_full_result,
    record_cover_ready,
    record_failure,
    record_preview_ready,
    record_source_ready,
    record_storyboard_ready,
    record_transcode_ready,
    retry_plan_for,
)

Step = Callable[[FullResult], FullResult]

COVER = ImageArtifact(key="videos/ab/abcdef/cover.jpg", format="jpg", size=83211)
PREVIEW = ImageArtifact(key="videos/ab/abcdef/preview.webp", format="webp", size=402118)
TRANSCODE = TranscodeResult(
    streaming=StreamingInfo(encrypted=False, master_playlist="videos/ab/abcdef/master.m3u8"),
    video_tracks=(),
)
PENDING = Stage(StageStatus.PENDING)
READY = Stage(StageStatus.READY)
BLOCKED_BY_SOURCE = Stage(StageStatus.SKIPPED, reason=SkipReason.BLOCKED_BY_SOURCE_FAILURE)
BLOCKED_BY_DEPENDENCIES = Stage(
    StageStatus.SKIPPED, reason=SkipReason.BLOCKED_BY_FAILED_DEPENDENCIES
)


def _failed(code: StageErrorCode, error: str) -> Stage:
    return Stage(StageStatus.FAILED, error_code=code, error=error, retryable=True)


def _fail(failure: FullFailure, cause: str = "boom") -> Step:
    return lambda result: record_failure(result, failure, cause)


def _run(*steps: Step, storyboard: bool = False) -> FullResult:
    result = initial_full_result(storyboard=storyboard)
    for step in steps:
        result = step(result)
    return result


def _tasks(reason: str, *stages: FullStage) -> RetryPlan:
    types = {
        FullStage.COVER: JobType.COVER, FullStage.PREVIEW: JobType.PREVIEW,
        FullStage.TRANSCODE: JobType.TRANSCODE, FullStage.STORYBOARD: JobType.STORYBOARD,
    }  # fmt: skip
    return RetryPlan(
        allowed=True, strategy=RetryStrategy.RETRY_TASKS,
        job_types=tuple(types[stage] for stage in stages), stages=stages, reason=reason,
    )  # fmt: skip


def _transcode_plan(reason: str) -> RetryPlan:
    return _tasks(reason, FullStage.TRANSCODE)


def _images_ready(transcode: Stage) -> FullStages:
    return FullStages(source=READY, cover=READY, preview=READY, transcode=transcode)


def source_ok(result: FullResult) -> FullResult:
    return record_source_ready(result)


def cover_ok(result: FullResult) -> FullResult:
    return record_cover_ready(result, COVER)


def preview_ok(result: FullResult) -> FullResult:
    return record_preview_ready(result, PREVIEW)


IMAGES_OK = (source_ok, cover_ok, preview_ok)
COVER_PLAN = _tasks("cover/preview stage failed", FullStage.COVER, FullStage.TRANSCODE)
SOURCE_PLAN = RetryPlan(
    allowed=True,
    strategy=RetryStrategy.RETRY_JOB,
    job_types=(JobType.FULL,),
    stages=(FullStage.SOURCE,),
    reason="source download failed",
)


@pytest.mark.parametrize(
    ("steps", "stages", "plan", "artifacts"),
    [
        pytest.param(
            (),
            FullStages(source=PENDING, cover=PENDING, preview=PENDING, transcode=PENDING),
            NO_RETRY_PLAN,
            Artifacts(),
            id="initial-all-pending-no-plan",
        ),
        pytest.param(
            (_fail(FullFailure.SOURCE_DOWNLOAD, "object not found"),),
            FullStages(
                source=_failed(StageErrorCode.DOWNLOAD_FAILED, "download source: object not found"),
                cover=BLOCKED_BY_SOURCE,
                preview=BLOCKED_BY_SOURCE,
                transcode=BLOCKED_BY_SOURCE,
            ),
            SOURCE_PLAN,
            Artifacts(),
            id="source-download-retries-the-whole-job",
        ),
        pytest.param(
            (source_ok, _fail(FullFailure.COVER_EXTRACT), preview_ok),
            FullStages(
                source=READY,
                cover=_failed(StageErrorCode.EXTRACT_FAILED, "extract cover: boom"),
                preview=READY,
                transcode=BLOCKED_BY_DEPENDENCIES,
            ),
            COVER_PLAN,
            Artifacts(preview=PREVIEW),
            id="cover-extract-only",
        ),
        pytest.param(
            (source_ok, _fail(FullFailure.COVER_UPLOAD), preview_ok),
            FullStages(
                source=READY,
                cover=_failed(StageErrorCode.UPLOAD_FAILED, "upload cover: boom"),
                preview=READY,
                transcode=BLOCKED_BY_DEPENDENCIES,
            ),
            COVER_PLAN,
            Artifacts(preview=PREVIEW),
            id="cover-upload-only",
        ),
        pytest.param(
            (source_ok, cover_ok, _fail(FullFailure.PREVIEW_GENERATE)),
            FullStages(
                source=READY,
                cover=READY,
                preview=_failed(StageErrorCode.GENERATE_FAILED, "generate preview: boom"),
                transcode=BLOCKED_BY_DEPENDENCIES,
            ),
            _tasks("cover/preview stage failed", FullStage.PREVIEW, FullStage.TRANSCODE),
            Artifacts(cover=COVER),
            id="preview-generate-only",
        ),
        pytest.param(
            (source_ok, cover_ok, _fail(FullFailure.PREVIEW_UPLOAD)),
            FullStages(
                source=READY,
                cover=READY,
                preview=_failed(StageErrorCode.UPLOAD_FAILED, "upload preview: boom"),
                transcode=BLOCKED_BY_DEPENDENCIES,
            ),
            _tasks("cover/preview stage failed", FullStage.PREVIEW, FullStage.TRANSCODE),
            Artifacts(cover=COVER),
            id="preview-upload-only",
        ),
        pytest.param(
            (source_ok, _fail(FullFailure.COVER_EXTRACT), _fail(FullFailure.PREVIEW_UPLOAD)),
            FullStages(
                source=READY,
                cover=_failed(StageErrorCode.EXTRACT_FAILED, "extract cover: boom"),
                preview=_failed(StageErrorCode.UPLOAD_FAILED, "upload preview: boom"),
                transcode=BLOCKED_BY_DEPENDENCIES,
            ),
            _tasks(
                "cover/preview stage failed",
                FullStage.COVER,
                FullStage.PREVIEW,
                FullStage.TRANSCODE,
            ),
            Artifacts(),
            id="cover-and-preview-transcode-listed-once",
        ),
        pytest.param(
            (*IMAGES_OK, _fail(FullFailure.TRANSCODE_ENCRYPTION)),
            _images_ready(
                _failed(StageErrorCode.ENCRYPTION_SETUP_FAILED, "setup encryption: boom")
            ),
            _transcode_plan("transcode stage failed"),
            Artifacts(cover=COVER, preview=PREVIEW),
            id="encryption-setup",
        ),
        pytest.param(
            (*IMAGES_OK, _fail(FullFailure.TRANSCODE_RUN, "ffmpeg exit 1")),
            _images_ready(_failed(StageErrorCode.TRANSCODE_FAILED, "transcode: ffmpeg exit 1")),
            _transcode_plan("transcode stage failed"),
            Artifacts(cover=COVER, preview=PREVIEW),
            id="transcode-probe-encode-package",
        ),
        pytest.param(
            (*IMAGES_OK, _fail(FullFailure.TRANSCODE_UPLOAD)),
            _images_ready(_failed(StageErrorCode.UPLOAD_FAILED, "upload HLS: boom")),
            _transcode_plan("transcode upload failed"),
            Artifacts(cover=COVER, preview=PREVIEW),
            id="hls-upload",
        ),
        pytest.param(
            (*IMAGES_OK, lambda result: record_transcode_ready(result, TRANSCODE)),
            _images_ready(READY),
            NO_RETRY_PLAN,
            Artifacts(cover=COVER, preview=PREVIEW, transcode=TRANSCODE),
            id="success-no-plan",
        ),
    ],
)
def test_run_reaches_the_spec_stages_and_retry_plan(
    steps: tuple[Step, ...], stages: FullStages, plan: RetryPlan, artifacts: Artifacts
) -> None:
    result = _run(*steps)

    assert result.stages == stages
    assert result.retry_plan == plan
    assert retry_plan_for(result) == plan
    assert result.artifacts == artifacts


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param((), "video:full failed", id="nothing-failed"),
        pytest.param(
            (_fail(FullFailure.SOURCE_DOWNLOAD),), "video:full failed: [source]", id="source"
        ),
        pytest.param(
            (source_ok, cover_ok, _fail(FullFailure.PREVIEW_GENERATE)),
            "video:full failed: [preview]",
            id="preview",
        ),
        pytest.param(
            (source_ok, _fail(FullFailure.PREVIEW_UPLOAD), _fail(FullFailure.COVER_EXTRACT)),
            "video:full failed: [cover preview]",
            id="cover-and-preview-sorted",
        ),
        pytest.param(
            (*IMAGES_OK, _fail(FullFailure.TRANSCODE_RUN)),
            "video:full failed: [transcode]",
            id="transcode",
        ),
    ],
)
def test_failure_message_lists_failed_stages_sorted(steps: tuple[Step, ...], expected: str) -> None:
    assert failure_message(_run(*steps)) == expected


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param((source_ok, source_ok), id="source-twice"),
        pytest.param((_fail(FullFailure.SOURCE_DOWNLOAD), cover_ok), id="cover-after-skip"),
        pytest.param(
            (source_ok, _fail(FullFailure.COVER_EXTRACT), _fail(FullFailure.TRANSCODE_RUN)),
            id="transcode-after-dependency-skip",
        ),
    ],
)
def test_only_pending_stages_change(steps: tuple[Step, ...]) -> None:
    with pytest.raises(IllegalTransition):
        _run(*steps)


# --- the storyboard stage ---------------------------------------------------------------

STORYBOARD = StoryboardArtifact(
    sprite="videos/ab/abcdef/storyboard.jpg", vtt="videos/ab/abcdef/storyboard.vtt",
    json="videos/ab/abcdef/storyboard.json", tiles=13, interval_ms=1000, tile_width=160,
    tile_height=90,
)  # fmt: skip
STORYBOARD_FAILED = _failed(StageErrorCode.GENERATE_FAILED, "generate storyboard: boom")


def storyboard_ok(result: FullResult) -> FullResult:
    return record_storyboard_ready(result, STORYBOARD)


def transcode_ok(result: FullResult) -> FullResult:
    return record_transcode_ready(result, TRANSCODE)


@pytest.mark.parametrize(
    ("steps", "storyboard", "plan"),
    [
        pytest.param((), PENDING, NO_RETRY_PLAN, id="initial-pending"),
        pytest.param(
            (*IMAGES_OK, transcode_ok, storyboard_ok), READY, NO_RETRY_PLAN, id="success"
        ),
        pytest.param(
            (_fail(FullFailure.SOURCE_DOWNLOAD),), BLOCKED_BY_SOURCE,
            SOURCE_PLAN,
            id="source-failure-skips-it",
        ),
        pytest.param(
            (*IMAGES_OK, transcode_ok, _fail(FullFailure.STORYBOARD_GENERATE)),
            STORYBOARD_FAILED, _tasks("storyboard stage failed", FullStage.STORYBOARD),
            id="alone-plans-just-itself",
        ),
        pytest.param(
            (*IMAGES_OK, transcode_ok, _fail(FullFailure.STORYBOARD_UPLOAD)),
            _failed(StageErrorCode.UPLOAD_FAILED, "upload storyboard: boom"),
            _tasks("storyboard stage failed", FullStage.STORYBOARD),
            id="upload",
        ),
        pytest.param(
            (source_ok, _fail(FullFailure.COVER_EXTRACT), preview_ok, storyboard_ok), READY,
            _tasks("cover/preview stage failed", FullStage.COVER, FullStage.TRANSCODE),
            id="ready-beside-a-cover-failure",
        ),
        pytest.param(
            (source_ok, _fail(FullFailure.COVER_EXTRACT), preview_ok,
             _fail(FullFailure.STORYBOARD_GENERATE)),
            STORYBOARD_FAILED,
            _tasks("cover/preview stage failed", FullStage.COVER, FullStage.TRANSCODE,
                   FullStage.STORYBOARD),
            id="with-a-cover-failure",
        ),
        pytest.param(
            (*IMAGES_OK, _fail(FullFailure.TRANSCODE_UPLOAD),
             _fail(FullFailure.STORYBOARD_GENERATE)),
            STORYBOARD_FAILED,
            _tasks("transcode upload failed", FullStage.TRANSCODE, FullStage.STORYBOARD),
            id="with-a-transcode-failure",
        ),
    ],
)  # fmt: skip
def test_storyboard_stage_blocks_nothing_and_plans_itself(
    steps: tuple[Step, ...], storyboard: Stage, plan: RetryPlan
) -> None:
    result = _run(*steps, storyboard=True)

    assert result.stages.storyboard == storyboard
    assert result.retry_plan == plan
    assert (result.artifacts.storyboard is not None) is (storyboard == READY)


def test_a_run_without_the_storyboard_stage_cannot_record_it() -> None:
    with pytest.raises(IllegalTransition):
        _run(*IMAGES_OK, storyboard_ok)
