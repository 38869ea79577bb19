"""JobRunner: one attempt of a leased task, and what its outcome means for the job row."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from attrs import frozen

from vylux_core.errors import (
    IllegalTransition,
    InvalidInput,
    JobNotFound,
    ObjectNotFound,
    Unavailable,
    UnprocessableImage,
    UnsupportedMedia,
    WorkflowFailed,
)
from vylux_core.jobs.job import Job, JobStatus, JobType
from vylux_core.jobs.results import Results
from vylux_core.jobs.task import FailureOutcome, Lease
from vylux_core.ports.clock import Clock
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.webhooks.message import final_outcome_message
from vylux_core.worker.attempt_outputs import recording_writes
from vylux_core.worker.progress import ProgressReporter

logger = logging.getLogger(__name__)

# Job errors end up in the row, the API and webhooks: a bounded message, never a
# whole FFmpeg log.
MAX_ERROR_LENGTH = 2000


class JobHandler(Protocol):
    """Runs one job type. Returns its ``results``; raises on failure."""

    async def __call__(self, job: Job, progress: ProgressReporter) -> Results: ...


class AttemptOutcome(enum.StrEnum):
    COMPLETED = "completed"
    RETRYING = "retrying"  # failed, another attempt is scheduled; the row stays processing
    FAILED = "failed"  # failed for good: the row says failed
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # the row is gone or already final: nothing to run
    LEASE_LOST = "lease_lost"


async def fail_for_good(
    jobs: JobStore, job_id: str, error: str, results: Results | None = None
) -> None:
    """Write the final ``failed`` status together with its webhook (the only one the
    job's callback gets: intermediate attempts send none)."""
    job = await jobs.get(job_id)
    webhook = final_outcome_message(job, JobStatus.FAILED, error=error, results=results)
    await jobs.fail(job_id, error, results, webhook=webhook)


def is_permanent(error: BaseException) -> bool:
    """Errors a retry cannot fix: bad input, a source that is not there, or one the
    image or media toolchain can never process."""
    if isinstance(error, WorkflowFailed):
        return error.permanent
    return isinstance(error, InvalidInput | UnprocessableImage | UnsupportedMedia | ObjectNotFound)


def bounded_error(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


class JobRunner:
    """The database row follows the task: ``processing`` while attempts run, and
    ``failed`` only when the queue has no attempt left (D11)."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        consumer: TaskConsumer,
        handlers: Mapping[JobType, JobHandler],
        clock: Clock,
        progress_interval: float = 1.0,
        outputs: ObjectStore | None = None,
    ) -> None:
        """``outputs`` is the media store the handlers write through a
        :class:`RecordingObjectStore`: a cancelled attempt's writes are deleted there."""
        self._outputs = outputs
        self._jobs = jobs
        self._consumer = consumer
        self._handlers = handlers
        self._clock = clock
        self._progress_interval = progress_interval

    async def run(self, lease: Lease) -> AttemptOutcome:
        """Run the leased task's job to an outcome; acks or fails the lease.

        ``asyncio.CancelledError`` propagates untouched: the caller (the worker pool)
        knows whether it is shutting down or the task was cancelled.
        """
        try:
            job = await self._jobs.mark_processing(lease.task.id)
        except (JobNotFound, IllegalTransition):
            # Purged, or completed by an attempt whose ack was lost: nothing to redo.
            await self._consumer.ack(lease)
            return AttemptOutcome.SKIPPED
        attempt = _Attempt(job=job, number=lease.retried + 1, started=self._clock.now())
        logger.info("job started: %s", attempt.describe())
        handler = self._handlers.get(job.type)
        deadline = asyncio.timeout(lease.task.timeout_seconds)
        written: set[str] = set()
        try:
            if handler is None:
                raise InvalidInput(f"no handler for job type {job.type}")
            progress = ProgressReporter(
                jobs=self._jobs, job_id=job.id, clock=self._clock,
                min_interval=self._progress_interval,
            )  # fmt: skip
            with recording_writes(written):
                async with deadline:
                    results = await handler(job, progress)
        except asyncio.CancelledError:
            # Stopped from outside: a cancel of the job, a lost lease or a shutdown. Only
            # a cancelled job's writes go; any other attempt redoes (overwrites) them.
            await self._discard_if_cancelled(job.id, written)
            raise
        except Exception as error:  # every failure is recorded; none may be lost
            failure: BaseException = error
            if deadline.expired():
                failure = TimeoutError(f"attempt exceeded {lease.task.timeout_seconds} s")
            kept = failure.results if isinstance(failure, WorkflowFailed) else None
            return await self._record_failure(lease, job.id, failure, kept, attempt)
        # Row first, then ack: a crash in between re-runs the task, which then finds
        # the row completed and only acks (SKIPPED above).
        webhook = final_outcome_message(job, JobStatus.COMPLETED, results=results)
        try:
            await self._jobs.complete(job.id, results, webhook=webhook)
        except IllegalTransition:
            # Cancelled while the last step ran: the cancel won, so its outputs go.
            await self._discard_if_cancelled(job.id, written)
            await self._consumer.ack(lease)
            return AttemptOutcome.CANCELLED
        await self._consumer.ack(lease)
        logger.info("job completed: %s", attempt.describe(self._clock.now()))
        return AttemptOutcome.COMPLETED

    async def abandon(self, lease: Lease) -> AttemptOutcome:
        """Settle an attempt stopped from outside: its task was cancelled, or its lease
        was lost. The queue decides which (CANCELLED / LEASE_LOST), or counts it as a
        failed attempt when the lease merely ran out before anyone took it back."""
        if await self._row_cancelled(lease.task.id):
            # The row says cancelled even if the queue never got the signal (it was
            # down when the job was cancelled): drop the task, never retry it.
            await self._consumer.ack(lease)
            return AttemptOutcome.CANCELLED
        error = RuntimeError("the attempt was stopped: task cancelled or lease lost")
        return await self._record_failure(lease, lease.task.id, error, None)

    async def _row_cancelled(self, job_id: str) -> bool:
        try:
            return (await self._jobs.get(job_id)).status is JobStatus.CANCELED
        except JobNotFound:
            return False

    async def _discard_if_cancelled(self, job_id: str, written: set[str]) -> None:
        """Delete what a cancelled attempt wrote (its scratch directory is gone already:
        the workflow's scratch context removes it on the way out)."""
        if not written or self._outputs is None or not await self._row_cancelled(job_id):
            return
        logger.info("job %s cancelled: removing %d objects it wrote", job_id, len(written))
        try:
            await self._outputs.delete_many(sorted(written))
        except Unavailable as error:
            logger.warning("job %s: could not remove the objects it wrote: %s", job_id, error)

    async def _record_failure(
        self,
        lease: Lease,
        job_id: str,
        error: BaseException,
        results: Results | None,
        attempt: _Attempt | None = None,
    ) -> AttemptOutcome:
        message = bounded_error(error)
        permanent = is_permanent(error)
        result = await self._consumer.fail(lease, message, permanent=permanent)
        logger.warning(
            "job %s attempt %d failed (%s): %s",
            job_id, lease.retried + 1, result.outcome, message,
        )  # fmt: skip
        match result.outcome:
            case FailureOutcome.RETRY_SCHEDULED:
                await self._jobs.record_attempt_error(job_id, message)
                if attempt is not None:
                    logger.info("job retry scheduled: %s", attempt.describe(self._clock.now()))
                return AttemptOutcome.RETRYING
            case FailureOutcome.ARCHIVED:
                with contextlib.suppress(JobNotFound, IllegalTransition):
                    await fail_for_good(self._jobs, job_id, message, results)
                if attempt is not None:
                    logger.info("job failed: %s", attempt.describe(self._clock.now()))
                return AttemptOutcome.FAILED
            case FailureOutcome.CANCELLED:
                await self._cancel_row(job_id)
                return AttemptOutcome.CANCELLED
            case FailureOutcome.LEASE_LOST:
                return AttemptOutcome.LEASE_LOST

    async def _cancel_row(self, job_id: str) -> None:
        # Purged meanwhile, or already final: either way nothing is left to cancel.
        with contextlib.suppress(JobNotFound, IllegalTransition):
            await self._jobs.cancel(job_id)


@frozen
class _Attempt:
    """What the lifecycle log lines of one attempt say about it."""

    job: Job
    number: int
    started: datetime

    def describe(self, ended: datetime | None = None) -> str:
        text = f"id={self.job.id} type={self.job.type} hash={self.job.hash} attempt={self.number}"
        if ended is not None:
            text += f" duration={(ended - self.started).total_seconds():.3f}s"
        return text
