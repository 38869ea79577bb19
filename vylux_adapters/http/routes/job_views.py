"""The JSON bodies of the jobs API, in the contract's field order (spec §7)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vylux_core.jobs.job import Job, JobStatus
from vylux_core.jobs.listing import JobPage, encode_cursor
from vylux_core.jobs.results import results_json
from vylux_core.services import RetrySubmission, Submission


def submission_body(submission: Submission) -> dict[str, Any]:
    """New or active job: its id and status. Completed duplicate: no id, the results
    (the client already has what it asked for, §7.1.5)."""
    job = submission.job
    if not submission.created and job.status is JobStatus.COMPLETED:
        results = results_json(job.results)
        return {"job_id": None, "hash": job.hash, "status": str(job.status), "results": results}
    return {"job_id": job.id, "hash": job.hash, "status": str(job.status)}


def job_body(job: Job) -> dict[str, Any]:
    """``GET /api/jobs/{id}``; empty optional fields are left out (§7.3)."""
    body: dict[str, Any] = {
        "job_id": job.id,
        "type": str(job.type),
        "hash": job.hash,
        "status": str(job.status),
        "callback_status": str(job.callback_status),
        "progress": job.progress,
    }
    if job.retry_of_job_id:
        body["retry_of_job_id"] = job.retry_of_job_id
    if job.error:
        body["error"] = job.error
    if job.results is not None:
        body["results"] = results_json(job.results)
    body["created_at"] = timestamp(job.created_at)
    body["updated_at"] = timestamp(job.updated_at)
    return body


def page_body(page: JobPage) -> dict[str, Any]:
    """``GET /api/jobs``: jobs as ``GET /api/jobs/{id}`` shows them, newest first."""
    cursor = None if page.next_cursor is None else encode_cursor(page.next_cursor)
    return {"jobs": [job_body(job) for job in page.jobs], "next_cursor": cursor}


def retry_body(retry: RetrySubmission) -> dict[str, Any]:
    """Jobs that were already active keep their own ``retry_of_job_id`` (maybe null)."""
    return {
        "source_job_id": retry.source_job_id,
        "strategy": retry.strategy,
        "jobs": [
            {
                "job_id": job.id,
                "type": str(job.type),
                "status": str(job.status),
                "retry_of_job_id": job.retry_of_job_id,
            }
            for job in retry.jobs
        ],
    }


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with second precision (``2026-04-01T08:00:00Z``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stores hand out UTC; be explicit anyway
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
