"""SqlJobStore: the JobStore port on PostgreSQL or SQLite (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from vylux_adapters.sql.errors import database_errors
from vylux_adapters.sql.schema import jobs, webhook_deliveries
from vylux_core.errors import Conflict, IllegalTransition, JobNotFound
from vylux_core.jobs.job import CallbackStatus, Job, JobStatus, JobType, NewJob, can_transition
from vylux_core.jobs.listing import JobCursor, JobFilter
from vylux_core.jobs.results import Results, read_stored_results, results_json
from vylux_core.ports.clock import Clock
from vylux_core.ports.job_store import CreateOutcome
from vylux_core.webhooks.message import WebhookMessage

_INACTIVE = (JobStatus.FAILED.value, JobStatus.CANCELED.value)
_TERMINAL = tuple(status.value for status in JobStatus if status.is_terminal)
_CREATE_ATTEMPTS = 5


class SqlJobStore:
    def __init__(self, *, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def create(self, new_job: NewJob) -> CreateOutcome:
        # INSERT ... ON CONFLICT DO NOTHING against the partial unique index: of many
        # concurrent creates one inserts; the others read the winner back. The loop
        # covers the rare case where the winner was failed before we could read it.
        for _ in range(_CREATE_ATTEMPTS):
            with database_errors("create job"):
                async with self._engine.begin() as conn:
                    existing = await _find_active(conn, new_job.request_fingerprint)
                    if existing is not None:
                        return CreateOutcome(existing, created=False)
                    now = self._clock.now()
                    values = _new_job_values(new_job, now)
                    inserted = await conn.execute(
                        self._insert(jobs)
                        .values(**values)
                        .on_conflict_do_nothing()
                        .returning(jobs.c.id)
                    )
                    if inserted.first() is not None:
                        return CreateOutcome(_row_to_job(values), created=True)
        raise Conflict("could not create the job: its fingerprint kept changing owner")

    async def get(self, job_id: str) -> Job:
        with database_errors("get job"):
            async with self._engine.connect() as conn:
                row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
        if row is None:
            raise JobNotFound("job not found")
        return _row_to_job(row._mapping)

    async def find_active(self, fingerprint: str) -> Job | None:
        with database_errors("find active job"):
            async with self._engine.connect() as conn:
                return await _find_active(conn, fingerprint)

    async def mark_processing(self, job_id: str) -> Job:
        return await self._transition(job_id, JobStatus.PROCESSING, {})

    async def record_attempt_error(self, job_id: str, error: str) -> None:
        unfinished = jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.PROCESSING.value])
        await self._update(and_(jobs.c.id == job_id, unfinished), error=error)

    async def set_progress(self, job_id: str, progress: int) -> None:
        progress = min(progress, 100)
        await self._update(and_(jobs.c.id == job_id, jobs.c.progress < progress), progress=progress)

    async def complete(
        self, job_id: str, results: Results, *, webhook: WebhookMessage | None = None
    ) -> Job:
        changes = {"progress": 100, "error": None, "results": results_json(results)}
        return await self._transition(job_id, JobStatus.COMPLETED, changes, webhook)

    async def fail(
        self,
        job_id: str,
        error: str,
        results: Results | None = None,
        *,
        webhook: WebhookMessage | None = None,
    ) -> Job:
        changes = {"error": error, "results": results_json(results)}
        return await self._transition(job_id, JobStatus.FAILED, changes, webhook)

    async def requeue(self, job_id: str) -> Job:
        return await self._transition(job_id, JobStatus.QUEUED, {})

    async def cancel(self, job_id: str, *, webhook: WebhookMessage | None = None) -> Job:
        try:
            return await self._transition(job_id, JobStatus.CANCELED, {}, webhook)
        except IllegalTransition:
            # Only the first cancel writes (and queues its webhook); a repeat returns
            # the cancelled job as it is.
            job = await self.get(job_id)
            if job.status is JobStatus.CANCELED:
                return job
            raise

    async def list_by_hash(self, media_hash: str) -> list[Job]:
        query = select(jobs).where(jobs.c.hash == media_hash).order_by(jobs.c.created_at)
        return await self._list(query, "list jobs by hash")

    async def list_by_status(self, status: JobStatus, limit: int) -> list[Job]:
        query = (
            select(jobs)
            .where(jobs.c.status == status.value)
            .order_by(jobs.c.updated_at, jobs.c.id)
            .limit(limit)
        )
        return await self._list(query, "list jobs by status")

    async def count_finished_since(self, since: datetime) -> Mapping[tuple[str, JobStatus], int]:
        query = (
            select(jobs.c.queue, jobs.c.status, func.count())
            .where(jobs.c.status.in_(_TERMINAL), jobs.c.updated_at >= since)
            .group_by(jobs.c.queue, jobs.c.status)
        )
        with database_errors("count finished jobs"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return {(queue, JobStatus(status)): count for queue, status, count in rows}

    async def list_jobs(
        self, job_filter: JobFilter, *, after: JobCursor | None, limit: int
    ) -> list[Job]:
        conditions: list[Any] = []
        if job_filter.status is not None:
            conditions.append(jobs.c.status == job_filter.status.value)
        if job_filter.type is not None:
            conditions.append(jobs.c.type == job_filter.type.value)
        if job_filter.hash is not None:
            conditions.append(jobs.c.hash == job_filter.hash)
        if job_filter.created_after is not None:
            conditions.append(jobs.c.created_at > job_filter.created_after)
        if job_filter.created_before is not None:
            conditions.append(jobs.c.created_at < job_filter.created_before)
        if after is not None:
            # Keyset: strictly after the cursor in (created_at DESC, id DESC) order; the
            # id decides between jobs created in the same instant.
            conditions.append(
                or_(
                    jobs.c.created_at < after.created_at,
                    and_(jobs.c.created_at == after.created_at, jobs.c.id < after.id),
                )
            )
        query = (
            select(jobs)
            .where(and_(true(), *conditions))
            .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
            .limit(limit)
        )
        return await self._list(query, "list jobs")

    async def delete_by_hash(self, media_hash: str) -> int:
        with database_errors("delete jobs"):
            async with self._engine.begin() as conn:
                # Explicit, so SQLite behaves the same whatever its foreign-key pragma.
                doomed = select(jobs.c.id).where(jobs.c.hash == media_hash)
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.retry_of_job_id.in_(doomed), jobs.c.hash != media_hash)
                    .values(retry_of_job_id=None)
                )
                result = await conn.execute(jobs.delete().where(jobs.c.hash == media_hash))
        return int(result.rowcount)

    async def _transition(
        self,
        job_id: str,
        target: JobStatus,
        changes: dict[str, Any],
        webhook: WebhookMessage | None = None,
    ) -> Job:
        sources = [status.value for status in JobStatus if can_transition(status, target)]
        with database_errors("update job status"):
            async with self._engine.begin() as conn:
                # One conditional UPDATE: the check and the write cannot interleave with
                # another worker's.
                row = (
                    await conn.execute(
                        update(jobs)
                        .where(jobs.c.id == job_id, jobs.c.status.in_(sources))
                        .values(status=target.value, updated_at=self._clock.now(), **changes)
                        .returning(*jobs.c)
                    )
                ).first()
                if row is not None:
                    if webhook is not None:
                        # Same transaction: the outcome and its callback commit together.
                        await conn.execute(self._outbox_insert(webhook))
                    return _row_to_job(row._mapping)
                current = (
                    await conn.execute(select(jobs.c.status).where(jobs.c.id == job_id))
                ).scalar()
        if current is None:
            raise JobNotFound("job not found")
        raise IllegalTransition(f"job {job_id}: cannot go from {current} to {target}")

    def _outbox_insert(self, webhook: WebhookMessage) -> Any:
        now = self._clock.now()
        return (
            self._insert(webhook_deliveries)
            .values(
                id=webhook.id, job_id=webhook.job_id, url=webhook.url, payload=webhook.payload,
                attempts=0, next_attempt_at=now, status="pending", created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )  # fmt: skip

    async def _update(self, condition: Any, **changes: Any) -> None:
        with database_errors("update job"):
            async with self._engine.begin() as conn:
                await conn.execute(
                    update(jobs).where(condition).values(updated_at=self._clock.now(), **changes)
                )

    async def _list(self, query: Any, operation: str) -> list[Job]:
        with database_errors(operation):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return [_row_to_job(row._mapping) for row in rows]


async def _find_active(conn: AsyncConnection, fingerprint: str) -> Job | None:
    row = (
        await conn.execute(
            select(jobs)
            .where(jobs.c.request_fingerprint == fingerprint, jobs.c.status.not_in(_INACTIVE))
            .order_by(jobs.c.created_at.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else _row_to_job(row._mapping)


def _new_job_values(new_job: NewJob, now: datetime) -> dict[str, Any]:
    return {
        "id": new_job.id,
        "type": new_job.type.value,
        "hash": new_job.hash,
        "source": new_job.source,
        "options": new_job.options,
        "request_fingerprint": new_job.request_fingerprint,
        "status": JobStatus.QUEUED.value,
        "progress": 0,
        "callback_url": new_job.callback_url,
        "callback_status": CallbackStatus.PENDING.value,
        "retry_of_job_id": new_job.retry_of_job_id,
        "error": None,
        "results": None,
        "queue": new_job.queue,
        "max_retry": new_job.max_retry,
        "created_at": now,
        "updated_at": now,
    }


def _row_to_job(row: Any) -> Job:
    job_type = JobType(row["type"])
    return Job(
        id=row["id"],
        type=job_type,
        hash=row["hash"],
        source=row["source"],
        options=row["options"],
        request_fingerprint=row["request_fingerprint"],
        status=JobStatus(row["status"]),
        progress=row["progress"],
        callback_url=row["callback_url"],
        callback_status=CallbackStatus(row["callback_status"]),
        retry_of_job_id=row["retry_of_job_id"],
        error=row["error"],
        results=read_stored_results(job_type, row["results"]),
        queue=row["queue"],
        max_retry=row["max_retry"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
    )


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
