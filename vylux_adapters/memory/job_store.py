"""MemoryJobStore: the JobStore port on a dict, for tests and embedding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from vylux_adapters.memory.webhook_outbox import MemoryWebhookOutbox
from vylux_core.errors import JobNotFound
from vylux_core.jobs.job import CallbackStatus, Job, JobStatus, JobType, NewJob, check_transition
from vylux_core.jobs.listing import JobCursor, JobFilter, newest_first_key
from vylux_core.jobs.results import (
    Results,
    StoredResults,
    read_stored_results,
    results_json,
)
from vylux_core.ports.clock import Clock
from vylux_core.ports.job_store import CreateOutcome
from vylux_core.webhooks.message import WebhookMessage


class MemoryJobStore:
    """Every method runs without awaiting, so each is atomic on one event loop."""

    def __init__(self, *, clock: Clock, outbox: MemoryWebhookOutbox | None = None) -> None:
        self._clock = clock
        self._outbox = outbox
        if outbox is not None:
            outbox.attach(self._set_callback_now)
        self._jobs: dict[str, Job] = {}

    async def create(self, new_job: NewJob) -> CreateOutcome:
        existing = self._active(new_job.request_fingerprint)
        if existing is not None:
            return CreateOutcome(existing, created=False)
        if new_job.id in self._jobs:
            raise ValueError(f"job id {new_job.id} already exists")
        now = self._clock.now()
        job = Job(
            id=new_job.id,
            type=new_job.type,
            hash=new_job.hash,
            source=new_job.source,
            options=new_job.options,
            request_fingerprint=new_job.request_fingerprint,
            status=JobStatus.QUEUED,
            progress=0,
            callback_url=new_job.callback_url,
            callback_status=CallbackStatus.PENDING,
            retry_of_job_id=new_job.retry_of_job_id,
            error=None,
            results=None,
            queue=new_job.queue,
            max_retry=new_job.max_retry,
            created_at=now,
            updated_at=now,
        )
        self._jobs[job.id] = job
        return CreateOutcome(job, created=True)

    async def get(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise JobNotFound("job not found") from None

    async def find_active(self, fingerprint: str) -> Job | None:
        return self._active(fingerprint)

    async def mark_processing(self, job_id: str) -> Job:
        return self._transition(job_id, JobStatus.PROCESSING)

    async def record_attempt_error(self, job_id: str, error: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None and not job.status.is_terminal:
            self._update(job_id, error=error)

    async def set_progress(self, job_id: str, progress: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None and progress > job.progress:
            self._update(job_id, progress=min(progress, 100))

    async def complete(
        self, job_id: str, results: Results, *, webhook: WebhookMessage | None = None
    ) -> Job:
        job = self._transition(
            job_id, JobStatus.COMPLETED, progress=100, error=None, results=results
        )
        self._queue_webhook(webhook)
        return job

    async def fail(
        self,
        job_id: str,
        error: str,
        results: Results | None = None,
        *,
        webhook: WebhookMessage | None = None,
    ) -> Job:
        job = self._transition(job_id, JobStatus.FAILED, error=error, results=results)
        self._queue_webhook(webhook)
        return job

    def _queue_webhook(self, webhook: WebhookMessage | None) -> None:
        if webhook is None:
            return
        if self._outbox is None:
            raise ValueError("this MemoryJobStore was built without an outbox")
        self._outbox.add(webhook, self._clock.now())

    async def requeue(self, job_id: str) -> Job:
        return self._transition(job_id, JobStatus.QUEUED)

    async def cancel(self, job_id: str, *, webhook: WebhookMessage | None = None) -> Job:
        job = await self.get(job_id)
        if job.status is JobStatus.CANCELED:
            return job
        job = self._transition(job_id, JobStatus.CANCELED)
        self._queue_webhook(webhook)
        return job

    def _set_callback_now(self, job_id: str, status: CallbackStatus) -> None:
        if job_id in self._jobs:
            self._update(job_id, callback_status=status)

    async def list_by_hash(self, media_hash: str) -> list[Job]:
        return sorted(
            (job for job in self._jobs.values() if job.hash == media_hash),
            key=lambda job: job.created_at,
        )

    async def list_by_status(self, status: JobStatus, limit: int) -> list[Job]:
        matching = sorted(
            (job for job in self._jobs.values() if job.status is status),
            key=lambda job: job.updated_at,
        )
        return matching[:limit]

    async def count_finished_since(self, since: datetime) -> Mapping[tuple[str, JobStatus], int]:
        return Counter(
            (job.queue, job.status)
            for job in self._jobs.values()
            if job.status.is_terminal and job.updated_at >= since
        )

    async def list_jobs(
        self, job_filter: JobFilter, *, after: JobCursor | None, limit: int
    ) -> list[Job]:
        matching = sorted(
            (
                job
                for job in self._jobs.values()
                if job_filter.matches(job) and (after is None or after.precedes(job))
            ),
            key=newest_first_key,
            reverse=True,
        )
        return matching[:limit]

    async def delete_by_hash(self, media_hash: str) -> int:
        doomed = {job_id for job_id, job in self._jobs.items() if job.hash == media_hash}
        for job_id in doomed:
            del self._jobs[job_id]
        for job_id, job in list(self._jobs.items()):
            if job.retry_of_job_id in doomed:
                self._jobs[job_id] = attrs.evolve(job, retry_of_job_id=None)
        return len(doomed)

    def _active(self, fingerprint: str) -> Job | None:
        active = [
            job
            for job in self._jobs.values()
            if job.request_fingerprint == fingerprint and job.status.is_active
        ]
        return max(active, key=lambda job: job.created_at, default=None)

    def _transition(self, job_id: str, target: JobStatus, **changes: Any) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFound("job not found")
        check_transition(job_id, job.status, target)
        if "results" in changes:
            changes["results"] = _through_json(job.type, changes["results"])
        return self._update(job_id, status=target, **changes)

    def _update(self, job_id: str, **changes: Any) -> Job:
        job = attrs.evolve(self._jobs[job_id], updated_at=self._clock.now(), **changes)
        self._jobs[job_id] = job
        return job


def _through_json(job_type: JobType, results: Results | None) -> StoredResults | None:
    """``results`` written as JSON and read back, as the SQL store does: what this store
    hands out is what a database would."""
    return read_stored_results(job_type, results_json(results))
