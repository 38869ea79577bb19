"""Turning a failed job into the job requests of its manual retry (spec §7.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from vylux_core.errors import InvalidOptions, NotRetryable
from vylux_core.job import Job, JobStatus, JobType
from vylux_core.job_options import decode_options
from vylux_core.job_request import JobRequest

RETRY_JOB = "retry_job"
RETRY_TASKS = "retry_tasks"

_STAGE_OF_TYPE = {
    JobType.COVER: "cover",
    JobType.PREVIEW: "preview",
    JobType.TRANSCODE: "transcode",
    JobType.STORYBOARD: "storyboard",
}


@frozen
class RetryRequests:
    strategy: str
    requests: tuple[JobRequest, ...]


def build_retry_requests(job: Job) -> RetryRequests:
    """The requests a retry of ``job`` submits, in order.

    Every request copies ``hash``, ``source`` and ``callback_url``. A failed
    ``video:full`` with a retry plan retries the planned stage types with their own
    options; anything else is retried as the same job. Raises ``NotRetryable``.
    """
    if job.status is not JobStatus.FAILED:
        raise NotRetryable("only failed jobs can be retried")
    try:
        decode_options(job.type, job.options)
    except InvalidOptions:
        raise NotRetryable("stored job options are invalid") from None
    if job.type is not JobType.FULL or job.results is None:
        return RetryRequests(RETRY_JOB, (_request(job, job.type, job.options),))
    strategy, job_types = _read_plan(job.results)
    requests = []
    for job_type in job_types:
        stage = _STAGE_OF_TYPE.get(job_type)
        stage_options = job.options if stage is None else job.options.get(stage, {})
        requests.append(_request(job, job_type, stage_options))
    return RetryRequests(strategy, tuple(requests))


def _read_plan(results: Any) -> tuple[str, list[JobType]]:
    if not isinstance(results, Mapping):
        raise NotRetryable("stored workflow state is invalid")
    plan = results.get("retry_plan")
    if plan is None:
        raise NotRetryable("job has no retry plan")  # as Go reads a missing plan: zero value
    if not isinstance(plan, Mapping):
        raise NotRetryable("stored workflow state is invalid")
    raw_types = plan.get("job_types") or []
    strategy = plan.get("strategy")
    if plan.get("allowed") is not True or not raw_types:
        raise NotRetryable("job has no retry plan")
    if strategy not in (RETRY_JOB, RETRY_TASKS) or not isinstance(raw_types, list):
        raise NotRetryable("stored workflow state is invalid")
    try:
        return strategy, [JobType(value) for value in raw_types]
    except ValueError:
        raise NotRetryable("stored workflow state is invalid") from None


def _request(job: Job, job_type: JobType, raw_options: Any) -> JobRequest:
    try:
        options = decode_options(job_type, raw_options)
    except InvalidOptions as exc:
        raise NotRetryable(str(exc)) from None
    return JobRequest(
        type=job_type,
        hash=job.hash,
        source=job.source,
        options=options,
        callback_url=job.callback_url,
    )
