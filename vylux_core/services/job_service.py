"""JobService: submit, look up, retry and purge jobs through the ports."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from attrs import frozen

from vylux_core.errors import (
    IllegalTransition,
    JobAlreadyFinished,
    ObjectNotFound,
    QueueUnavailable,
    SourceMissing,
    SourceNotVideo,
    SourceTooLarge,
)
from vylux_core.jobs.job import Job, JobStatus, JobType, NewJob
from vylux_core.jobs.limits import JobLimits
from vylux_core.jobs.listing import JobCursor, JobPage, JobQuery
from vylux_core.jobs.options import check_result_budget, sidecar_captions
from vylux_core.jobs.queue_routing import QueueAssignment, attempt_timeout, route_job
from vylux_core.jobs.request import JobRequest
from vylux_core.jobs.results import RetryStrategy
from vylux_core.jobs.retry_requests import build_retry_requests
from vylux_core.jobs.task import Task
from vylux_core.media.captions import read_sidecars
from vylux_core.media.media_hash import validate_media_hash
from vylux_core.media.source_sniff import SNIFF_BYTES, not_a_video, not_audio, sniff_image_type
from vylux_core.media.storage_keys import image_prefix, video_prefix
from vylux_core.ports.id_generator import IdGenerator
from vylux_core.ports.image_cache_index import ImageCacheIndex
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.key_store import KeyStore
from vylux_core.ports.object_store import ByteRange, ObjectInfo, ObjectReader, ObjectStore
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.webhooks.message import final_outcome_message

logger = logging.getLogger(__name__)

SOURCE_MISSING = "source object not found"
JOB_ALREADY_FINISHED = "job already finished"


class SourceInspector(Protocol):
    """What job submission needs from the source store: the size, and the first bytes."""

    async def stat(self, key: str) -> ObjectInfo: ...

    async def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader: ...


class RenditionCache(Protocol):
    """This process's in-memory cache of ``/img`` renditions."""

    def discard(self, key: str) -> bool: ...


@frozen
class Submission:
    """``created`` is False when an active job with the same fingerprint was reused."""

    job: Job
    created: bool


@frozen
class RetrySubmission:
    source_job_id: str
    strategy: RetryStrategy
    jobs: tuple[Job, ...]


class JobService:
    def __init__(
        self,
        *,
        jobs: JobStore,
        queue: TaskQueue,
        source: SourceInspector,
        media: ObjectStore,
        cache_index: ImageCacheIndex,
        keys: KeyStore,
        renditions: RenditionCache,
        ids: IdGenerator,
        limits: JobLimits,
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._source = source
        self._media = media
        self._cache_index = cache_index
        self._keys = keys
        self._renditions = renditions
        self._ids = ids
        self._limits = limits

    async def create(
        self, request: JobRequest, *, trace_carrier: Mapping[str, str] | None = None
    ) -> Submission:
        """Create a job, or return the active job that already does this work.

        The row is written before the task is enqueued; if the enqueue fails the row
        stays ``queued`` and the reconciler enqueues it later, so the job is accepted.
        Raises ``InvalidOptions`` for thumbnail outputs over the result budget or a caption
        file that is missing, too large or unreadable, and
        ``SourceMissing``/``SourceTooLarge``/``SourceNotVideo`` from the preflight.
        """
        existing = await self._jobs.find_active(request.fingerprint())
        if existing is not None:
            return Submission(existing, created=False)
        assignment = await self._assign_queue(request)
        return await self._submit(request, assignment, None, trace_carrier)

    async def get(self, job_id: str) -> Job:
        return await self._jobs.get(job_id)

    async def list_jobs(self, query: JobQuery) -> JobPage:
        """One page of jobs, newest first; ``next_cursor`` is None on the last page."""
        # One row more than the page tells whether another page follows.
        rows = await self._jobs.list_jobs(query.filter, after=query.cursor, limit=query.limit + 1)
        page = tuple(rows[: query.limit])
        more = len(rows) > query.limit
        return JobPage(page, JobCursor.after(page[-1]) if more else None)

    async def cancel(self, job_id: str) -> Job:
        """Cancel a queued or processing job; the cancelled job is returned.

        The row is written first (it is the source of truth, and the write carries the
        job's one final webhook); then the queued task is deleted, or a running one is
        signalled: its worker's heartbeat sees the signal, or the cancelled row, and
        stops the attempt, killing its tools and removing what it wrote. Idempotent:
        a cancelled job is returned as it is. Raises ``JobNotFound``, and
        ``JobAlreadyFinished`` for a completed or failed job.
        """
        job = await self._jobs.get(job_id)
        if job.status is not JobStatus.CANCELED:
            webhook = final_outcome_message(job, JobStatus.CANCELED)
            try:
                job = await self._jobs.cancel(job_id, webhook=webhook)
            except IllegalTransition:
                raise JobAlreadyFinished(JOB_ALREADY_FINISHED) from None
        # Also on a repeat: a cancel interrupted between the row and the queue is
        # finished by calling it again.
        try:
            await self._queue.cancel(job_id)
        except QueueUnavailable:
            logger.warning(
                "job %s cancelled; its task could not be reached now, the worker's "
                "heartbeat stops it by the row",
                job_id,
            )
        return job

    async def retry(
        self, job_id: str, *, trace_carrier: Mapping[str, str] | None = None
    ) -> RetrySubmission:
        """Retry a failed job per its retry plan; raises ``NotRetryable`` otherwise.

        Every request is validated and preflighted before the first one is created,
        so a bad source does not leave half of a multi-job retry behind.
        """
        failed = await self._jobs.get(job_id)
        plan = build_retry_requests(failed)
        assignments = [await self._assign_queue(request) for request in plan.requests]
        jobs = []
        for request, assignment in zip(plan.requests, assignments, strict=True):
            existing = await self._jobs.find_active(request.fingerprint())
            if existing is not None:
                jobs.append(existing)
                continue
            submission = await self._submit(request, assignment, failed.id, trace_carrier)
            jobs.append(submission.job)
        return RetrySubmission(failed.id, plan.strategy, tuple(jobs))

    async def purge(self, media_hash: str) -> None:
        """Remove everything derived from ``media_hash``: queued and running tasks,
        media objects, tracked ``/img`` renditions, the content key and the job rows.

        Idempotent. Failures propagate (``Unavailable``) so the caller can report them
        and try again.
        """
        validate_media_hash(media_hash)
        # Every job's task, even a failed job's: its archived task could otherwise be
        # requeued by an operator after the row is gone.
        for job in await self._jobs.list_by_hash(media_hash):
            await self._queue.cancel(job.id)
        await self._media.delete_prefix(image_prefix(media_hash))
        await self._media.delete_prefix(video_prefix(media_hash))
        entries = await self._cache_index.list_by_hash(media_hash)
        for entry in entries:
            self._renditions.discard(entry.cache_key)
        await self._media.delete_many(entry.storage_key for entry in entries)
        await self._cache_index.delete_by_hash(media_hash)
        await self._keys.delete(media_hash)
        await self._jobs.delete_by_hash(media_hash)

    async def _assign_queue(self, request: JobRequest) -> QueueAssignment:
        check_result_budget(request.options, self._limits.image_budget)
        size = 0
        if request.type.needs_source_preflight:
            try:
                size = (await self._source.stat(request.source)).size
            except ObjectNotFound:
                raise SourceMissing(SOURCE_MISSING) from None
            if size > self._limits.max_file_size:
                raise SourceTooLarge(self._limits.max_file_size)
            if size > 0:
                image_type = sniff_image_type(await self._source_head(request.source))
                if image_type is not None:
                    refusal = not_audio if request.type is JobType.AUDIO_TRANSCODE else not_a_video
                    raise SourceNotVideo(refusal(image_type))
        captions, where = sidecar_captions(request.options)
        if captions:
            # Read and parsed now, so a bad file is a 400 naming its entry, not a failed job.
            await read_sidecars(self._source, captions, where)
        return route_job(request.type, size, self._limits.large_file_threshold)

    async def _source_head(self, key: str) -> bytes:
        """The source's first bytes: one ranged read, never the whole object."""
        try:
            reader = await self._source.open(key, ByteRange(0, SNIFF_BYTES - 1))
        except ObjectNotFound:  # deleted since the stat
            raise SourceMissing(SOURCE_MISSING) from None
        head = bytearray()
        try:
            async for chunk in reader.chunks():
                head += chunk
                if len(head) >= SNIFF_BYTES:
                    break
        finally:
            await reader.aclose()
        return bytes(head[:SNIFF_BYTES])

    async def _submit(
        self,
        request: JobRequest,
        assignment: QueueAssignment,
        retry_of: str | None,
        trace_carrier: Mapping[str, str] | None,
    ) -> Submission:
        outcome = await self._jobs.create(
            NewJob(
                id=self._ids.new_id(),
                type=request.type,
                hash=request.hash,
                source=request.source,
                options=request.canonical_options(),
                request_fingerprint=request.fingerprint(),
                callback_url=request.callback_url,
                retry_of_job_id=retry_of,
                queue=assignment.queue,
                max_retry=assignment.max_retry,
            )
        )
        if not outcome.created:
            return Submission(outcome.job, created=False)
        task = task_for_job(outcome.job, trace_carrier)
        try:
            await self._queue.enqueue(task)
        except QueueUnavailable:
            logger.warning(
                "job %s stored but not enqueued; the reconciler will enqueue it",
                outcome.job.id,
            )
        job = outcome.job
        logger.info(
            "job accepted: id=%s type=%s hash=%s queue=%s%s", job.id, job.type, job.hash,
            job.queue, f" retry_of={retry_of}" if retry_of else "",
        )  # fmt: skip
        return Submission(job, created=True)


def task_for_job(job: Job, trace_carrier: Mapping[str, str] | None = None) -> Task:
    """The queue task of a job. The payload holds only the job id and trace context:
    the job row is the one source of truth for what to do."""
    payload: dict[str, str] = {"job_id": job.id}
    if trace_carrier:
        payload.update(
            {k: v for k, v in trace_carrier.items() if k in ("traceparent", "tracestate")}
        )
    return Task(
        id=job.id,
        type=str(job.type),
        queue=job.queue,
        payload=payload,
        max_retry=job.max_retry,
        timeout_seconds=attempt_timeout(job.type),
    )
