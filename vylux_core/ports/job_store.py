"""JobStore port: durable job rows, the source of truth for job state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from attrs import frozen

from vylux_core.jobs.job import Job, JobStatus, NewJob
from vylux_core.jobs.listing import JobCursor, JobFilter
from vylux_core.jobs.results import Results
from vylux_core.webhooks.message import WebhookMessage


@frozen
class CreateOutcome:
    """``created`` is False when an active job already held the fingerprint."""

    job: Job
    created: bool


class JobStore(Protocol):
    async def create(self, new_job: NewJob) -> CreateOutcome:
        """Insert ``new_job`` as ``queued`` unless an active job has its fingerprint.

        Race-free: of any number of concurrent creates with one fingerprint exactly
        one row is inserted; every other caller gets that row back (created=False).
        Active means status not ``failed``/``canceled``.
        """
        ...

    async def get(self, job_id: str) -> Job:
        """The job; raises ``JobNotFound``."""
        ...

    async def find_active(self, fingerprint: str) -> Job | None:
        """The newest active job with this fingerprint, or None."""
        ...

    async def mark_processing(self, job_id: str) -> Job:
        """``queued``/``processing`` -> ``processing``. Keeps the last attempt's error.

        Raises ``JobNotFound``, or ``IllegalTransition`` from a terminal status.
        """
        ...

    async def record_attempt_error(self, job_id: str, error: str) -> None:
        """Store the error of an attempt that will be retried; status is unchanged.

        Only a ``queued`` or ``processing`` job takes it: a report that arrives after
        the job finished (a lost attempt noticed once the retry had already completed)
        must not mark a finished job. Unknown id: no-op.
        """
        ...

    async def set_progress(self, job_id: str, progress: int) -> None:
        """Raise progress to ``progress`` (0-100); never lowers it. Unknown id: no-op."""
        ...

    async def complete(
        self, job_id: str, results: Results, *, webhook: WebhookMessage | None = None
    ) -> Job:
        """-> ``completed`` with progress 100, error cleared, ``results`` stored.

        A store keeps ``results`` as JSON (:func:`~vylux_core.jobs.results.results_json`)
        and hands it back decoded by the job's type
        (:func:`~vylux_core.jobs.results.read_stored_results`).

        ``webhook`` is added to the outbox in the same transaction (once per message
        id: writing the same final outcome again queues nothing new).
        """
        ...

    async def fail(
        self,
        job_id: str,
        error: str,
        results: Results | None = None,
        *,
        webhook: WebhookMessage | None = None,
    ) -> Job:
        """-> ``failed`` (terminal: written only when no attempt is left); ``webhook``
        as in :meth:`complete`."""
        ...

    async def requeue(self, job_id: str) -> Job:
        """``processing`` -> ``queued`` for a task handed back without an attempt."""
        ...

    async def cancel(self, job_id: str, *, webhook: WebhookMessage | None = None) -> Job:
        """-> ``canceled`` from ``queued`` or ``processing`` (one conditional write, so a
        worker completing the job at the same moment either wins or loses cleanly).

        Idempotent when already canceled: the job is returned and ``webhook`` is not
        queued again. Raises ``JobNotFound``, or ``IllegalTransition`` when the job
        completed or failed. ``webhook`` as in :meth:`complete`.
        """
        ...

    async def list_by_hash(self, media_hash: str) -> list[Job]:
        """Every job of the hash, oldest first."""
        ...

    async def list_by_status(self, status: JobStatus, limit: int) -> list[Job]:
        """Up to ``limit`` jobs in ``status``, oldest ``updated_at`` first."""
        ...

    async def list_jobs(
        self, job_filter: JobFilter, *, after: JobCursor | None, limit: int
    ) -> list[Job]:
        """Up to ``limit`` jobs matching ``job_filter``, newest first on
        ``(created_at, id)``, starting after ``after`` (from the newest when None)."""
        ...

    async def count_finished_since(self, since: datetime) -> Mapping[tuple[str, JobStatus], int]:
        """Jobs that reached a terminal status at or after ``since``, counted per
        ``(queue, status)``; pairs with no job are absent. A finished row's
        ``updated_at`` stands for when it finished (only its webhook outcome writes it
        again, usually seconds later)."""
        ...

    async def delete_by_hash(self, media_hash: str) -> int:
        """Delete every job of the hash; links from other jobs become None. Idempotent."""
        ...
