"""Turning a failed job into the job requests of its manual retry (spec §7.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from vylux_core.errors import InvalidOptions, NotRetryable
from vylux_core.jobs.job import Job, JobStatus, JobType
from vylux_core.jobs.options import decode_options
from vylux_core.jobs.request import JobRequest
from vylux_core.jobs.results import (
    STAGE_OF_JOB_TYPE,
    FullResult,
    ResultsDecodeError,
    RetryPlan,
    RetryStrategy,
    StoredResults,
    UnreadableResults,
    structure_retry_plan,
)


@frozen
class RetryRequests:
    strategy: RetryStrategy
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
        return RetryRequests(RetryStrategy.RETRY_JOB, (_request(job, job.type, job.options),))
    plan = _planned_retry(job.results)
    requests = []
    for job_type in plan.job_types:
        stage = STAGE_OF_JOB_TYPE.get(job_type)
        stage_options = job.options if stage is None else job.options.get(stage.value, {})
        requests.append(_request(job, job_type, stage_options))
    return RetryRequests(plan.strategy, tuple(requests))


def _planned_retry(results: StoredResults) -> RetryPlan:
    if isinstance(results, FullResult):
        plan = results.retry_plan
    elif isinstance(results, UnreadableResults):
        plan = _plan_of_unreadable(results)
    else:
        raise NotRetryable("stored workflow state is invalid")
    if not plan.allowed or not plan.job_types:
        raise NotRetryable("job has no retry plan")
    if plan.strategy is RetryStrategy.NONE:
        raise NotRetryable("stored workflow state is invalid")
    return plan


def _plan_of_unreadable(results: UnreadableResults) -> RetryPlan:
    """A row whose results do not decode as a whole (a field another version added)
    can still be retried when its ``retry_plan`` decodes on its own."""
    stored = results.stored
    if not isinstance(stored, Mapping):
        raise NotRetryable("stored workflow state is invalid")
    if stored.get("retry_plan") is None:
        raise NotRetryable("job has no retry plan")
    try:
        return structure_retry_plan(stored["retry_plan"])
    except ResultsDecodeError:
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
