"""Turning a failed job into the requests of its manual retry (§7.4, U12, U13)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.results import failed_full_result, image_artifact
from vylux_core.errors import NotRetryable
from vylux_core.jobs.job import CallbackStatus, Job, JobStatus, JobType
from vylux_core.jobs.options import canonical_options
from vylux_core.jobs.results import (
    FullResult,
    RetryStrategy,
    StoredResults,
    read_stored_results,
    unstructure_results,
)
from vylux_core.jobs.retry_requests import build_retry_requests

NOW = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
FULL_OPTIONS: dict[str, Any] = {
    "cover": {"timestamp_sec": 2},
    "preview": {"format": "gif"},
    "transcode": {"encrypt": True},
}


def plan(strategy: str, *job_types: str, allowed: bool = True) -> FullResult:
    """A failed video:full result with this retry plan (worker §5.5)."""
    return failed_full_result(
        RetryStrategy(strategy), *(JobType(t) for t in job_types), allowed=allowed
    )


def stored(data: Any) -> StoredResults | None:
    """A video:full row's results JSON as a store reads it back (maybe undecodable)."""
    return read_stored_results(JobType.FULL, data)


STAGE_PLAN = plan("retry_tasks", "video:cover", "video:preview", "video:transcode")
VALID_PLAN_JSON: dict[str, Any] = unstructure_results(STAGE_PLAN)


def failed_job(
    job_type: JobType = JobType.FULL,
    options: Any = None,
    results: StoredResults | None = None,
    status: JobStatus = JobStatus.FAILED,
) -> Job:
    return Job(
        id="job-failed",
        type=job_type,
        hash="movie-1",
        source="uploads/a.mp4",
        options=FULL_OPTIONS if options is None else options,
        request_fingerprint="f" * 64,
        status=status,
        progress=20,
        callback_url="https://app.example.com/cb",
        callback_status=CallbackStatus.SENT,
        retry_of_job_id=None,
        error="video:full failed: [cover]",
        results=results,
        queue="default",
        max_retry=3,
        created_at=NOW,
        updated_at=NOW,
    )


def without_plan() -> dict[str, Any]:
    return {key: value for key, value in VALID_PLAN_JSON.items() if key != "retry_plan"}


def with_plan(**changes: Any) -> dict[str, Any]:
    return {**VALID_PLAN_JSON, "retry_plan": {**VALID_PLAN_JSON["retry_plan"], **changes}}


Want = tuple[str, list[tuple[JobType, dict[str, Any]]]]


@pytest.mark.parametrize(
    ("job", "want"),
    [
        pytest.param(
            failed_job(results=STAGE_PLAN),
            (
                RetryStrategy.RETRY_TASKS,
                [
                    (JobType.COVER, {"timestamp_sec": 2}),
                    (JobType.PREVIEW, {"format": "gif"}),
                    (JobType.TRANSCODE, {"encrypt": True}),
                ],
            ),
            id="u12-full-stage-retries-in-plan-order",
        ),
        pytest.param(
            # Results another version wrote (an extra field): the plan is still followed.
            failed_job(results=stored({**VALID_PLAN_JSON, "added_later": 1})),
            (
                RetryStrategy.RETRY_TASKS,
                [
                    (JobType.COVER, {"timestamp_sec": 2}),
                    (JobType.PREVIEW, {"format": "gif"}),
                    (JobType.TRANSCODE, {"encrypt": True}),
                ],
            ),
            id="undecodable-results-with-a-readable-plan",
        ),
        pytest.param(
            failed_job(results=plan("retry_tasks", "video:transcode", "video:cover")),
            (
                RetryStrategy.RETRY_TASKS,
                [(JobType.TRANSCODE, {"encrypt": True}), (JobType.COVER, {"timestamp_sec": 2})],
            ),
            id="plan-order-not-stage-order",
        ),
        pytest.param(
            failed_job(options={"transcode": {"encrypt": True}}, results=STAGE_PLAN),
            (
                RetryStrategy.RETRY_TASKS,
                [
                    (JobType.COVER, {}),
                    (JobType.PREVIEW, {}),
                    (JobType.TRANSCODE, {"encrypt": True}),
                ],
            ),
            id="absent-stage-options-are-empty",
        ),
        pytest.param(
            failed_job(results=plan("retry_tasks", "video:transcode", "video:storyboard")),
            (
                RetryStrategy.RETRY_TASKS,
                [(JobType.TRANSCODE, {"encrypt": True}), (JobType.STORYBOARD, {})],
            ),
            id="storyboard-stage-retries-as-its-own-type",
        ),
        pytest.param(
            failed_job(options={"cover": None}, results=plan("retry_tasks", "video:cover")),
            (RetryStrategy.RETRY_TASKS, [(JobType.COVER, {})]),
            id="null-stage-options-are-empty",
        ),
        pytest.param(
            failed_job(results=plan("retry_job", "video:full")),
            (RetryStrategy.RETRY_JOB, [(JobType.FULL, FULL_OPTIONS)]),
            id="source-failure-plan-retries-whole-job",
        ),
        pytest.param(
            failed_job(),
            (RetryStrategy.RETRY_JOB, [(JobType.FULL, FULL_OPTIONS)]),
            id="full-without-results-retries-whole-job",
        ),
        pytest.param(
            failed_job(JobType.PREVIEW, {"start_sec": 1, "format": "gif"}),
            (RetryStrategy.RETRY_JOB, [(JobType.PREVIEW, {"start_sec": 1, "format": "gif"})]),
            id="u13-single-stage-reuses-request",
        ),
        pytest.param(
            failed_job(JobType.COVER, {"timestamp_sec": 4}, results=image_artifact()),
            (RetryStrategy.RETRY_JOB, [(JobType.COVER, {"timestamp_sec": 4})]),
            id="results-of-other-types-ignored",
        ),
        pytest.param(
            failed_job(JobType.THUMBNAIL, {"outputs": [{"variant": "s", "width": 10}]}),
            (
                RetryStrategy.RETRY_JOB,
                [
                    (
                        JobType.THUMBNAIL,
                        {"outputs": [{"variant": "s", "width": 10, "format": "webp"}]},
                    )
                ],
            ),
            id="thumbnail",
        ),
        pytest.param(
            failed_job(JobType.TRANSCODE, {}),
            (RetryStrategy.RETRY_JOB, [(JobType.TRANSCODE, {})]),
            id="transcode-empty-options",
        ),
    ],
)
def test_build_retry_requests(job: Job, want: Want) -> None:
    retry = build_retry_requests(job)

    assert (retry.strategy, [(r.type, r.canonical_options()) for r in retry.requests]) == want
    assert {(r.hash, r.source, r.callback_url) for r in retry.requests} == {
        ("movie-1", "uploads/a.mp4", "https://app.example.com/cb")
    }


def test_u13_single_stage_request_is_identical_to_the_original() -> None:
    options = {"start_sec": 1, "duration": 3, "width": 480, "fps": 12, "format": "webp"}
    job = failed_job(JobType.PREVIEW, options)

    (request,) = build_retry_requests(job).requests

    assert canonical_options(request.options) == options
    assert (request.type, request.hash, request.source, request.callback_url) == (
        job.type,
        job.hash,
        job.source,
        job.callback_url,
    )


@pytest.mark.parametrize(
    ("job", "message"),
    [
        pytest.param(
            failed_job(status=JobStatus.QUEUED), "only failed jobs can be retried", id="queued"
        ),
        pytest.param(
            failed_job(status=JobStatus.PROCESSING),
            "only failed jobs can be retried",
            id="processing",
        ),
        pytest.param(
            failed_job(status=JobStatus.COMPLETED, results=STAGE_PLAN),
            "only failed jobs can be retried",
            id="completed",
        ),
        pytest.param(
            failed_job(status=JobStatus.CANCELED),
            "only failed jobs can be retried",
            id="canceled",
        ),
        pytest.param(
            failed_job(status=JobStatus.QUEUED, options={"x": 1}),
            "only failed jobs can be retried",
            id="status-checked-before-options",
        ),
        pytest.param(
            failed_job(results=plan("none", allowed=False)),
            "job has no retry plan",
            id="plan-not-allowed",
        ),
        pytest.param(
            failed_job(results=plan("retry_tasks", "video:cover", allowed=False)),
            "job has no retry plan",
            id="types-but-not-allowed",
        ),
        pytest.param(
            failed_job(results=plan("retry_tasks")),
            "job has no retry plan",
            id="allowed-without-types",
        ),
        pytest.param(
            failed_job(results=plan("none", "video:cover")),
            "stored workflow state is invalid",
            id="none-strategy-with-types",
        ),
        # Stored JSON that does not decode as a video:full result: its retry_plan, when
        # there is one, is read on its own.
        pytest.param(failed_job(results=stored({})), "job has no retry plan", id="empty-object"),
        pytest.param(
            failed_job(results=stored([])), "stored workflow state is invalid", id="results-array"
        ),
        pytest.param(
            failed_job(results=stored("broken")),
            "stored workflow state is invalid",
            id="results-string",
        ),
        pytest.param(
            failed_job(results=stored({**VALID_PLAN_JSON, "retry_plan": "retry"})),
            "stored workflow state is invalid",
            id="plan-not-object",
        ),
        pytest.param(
            failed_job(results=stored(without_plan())),
            "job has no retry plan",
            id="results-without-plan",
        ),
        pytest.param(
            failed_job(results=stored(with_plan(strategy="bogus"))),
            "stored workflow state is invalid",
            id="unknown-strategy",
        ),
        pytest.param(
            failed_job(results=stored(with_plan(job_types=["video:bogus"]))),
            "stored workflow state is invalid",
            id="unknown-job-type",
        ),
        pytest.param(
            failed_job(results=stored(with_plan(job_types=[5]))),
            "stored workflow state is invalid",
            id="non-string-job-type",
        ),
        pytest.param(
            failed_job(results=stored(with_plan(job_types="video:cover"))),
            "stored workflow state is invalid",
            id="types-not-array",
        ),
        pytest.param(
            failed_job(options={"timestamp_sec": 1}),
            "stored job options are invalid",
            id="full-flat-options",
        ),
        pytest.param(
            failed_job(options={"cover": {"ts": 1}}, results=STAGE_PLAN),
            "stored job options are invalid",
            id="options-checked-before-plan",
        ),
        pytest.param(
            failed_job(JobType.PREVIEW, {"format": "png"}),
            "stored job options are invalid",
            id="preview-bad-format",
        ),
        pytest.param(
            failed_job(JobType.TRANSCODE, {"encrypt": "yes"}),
            "stored job options are invalid",
            id="transcode-bad-type",
        ),
        pytest.param(
            failed_job(results=plan("retry_tasks", "image:thumbnail")),
            "invalid options: ",
            id="plan-type-rejects-options",
        ),
    ],
)
def test_not_retryable(job: Job, message: str) -> None:
    with pytest.raises(NotRetryable) as caught:
        build_retry_requests(job)

    assert caught.value.message.startswith(message)
