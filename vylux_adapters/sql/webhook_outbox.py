"""SqlWebhookOutbox: the WebhookOutbox port on ``webhook_deliveries``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from vylux_adapters.sql.errors import database_errors
from vylux_adapters.sql.job_store import as_utc
from vylux_adapters.sql.schema import jobs, webhook_deliveries
from vylux_core.jobs.job import CallbackStatus
from vylux_core.ports.clock import Clock
from vylux_core.webhooks.message import OutboxEntry, WebhookMessage

_table = webhook_deliveries.c


class SqlWebhookOutbox:
    """Entries are inserted by SqlJobStore with the job's final status; finishing one
    sets its job's ``callback_status`` in the same transaction."""

    def __init__(self, *, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        query = (
            select(webhook_deliveries)
            .where(_table.status == "pending", _table.next_attempt_at <= now)
            .order_by(_table.next_attempt_at, _table.created_at)
            .limit(limit)
        )
        with database_errors("list due webhooks"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return [_row_to_entry(row._mapping) for row in rows]

    async def pending_count(self) -> int:
        """Entries still to deliver (due or waiting for their next attempt)."""
        query = (
            select(func.count()).select_from(webhook_deliveries).where(_table.status == "pending")
        )
        with database_errors("count pending webhooks"):
            async with self._engine.connect() as conn:
                return int((await conn.execute(query)).scalar_one())

    async def mark_sent(self, message_id: str) -> None:
        await self._finish(message_id, "sent", None, CallbackStatus.SENT)

    async def reschedule(self, message_id: str, next_attempt_at: datetime, error: str) -> None:
        await self._update(
            message_id,
            attempts=_table.attempts + 1,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )

    async def mark_failed(self, message_id: str, error: str) -> None:
        await self._finish(message_id, "failed", error, CallbackStatus.FAILED)

    async def _finish(
        self, message_id: str, status: str, error: str | None, callback: CallbackStatus
    ) -> None:
        now = self._clock.now()
        with database_errors("finish webhook"):
            async with self._engine.begin() as conn:
                finished = await conn.execute(
                    update(webhook_deliveries)
                    .where(_table.id == message_id, _table.status == "pending")
                    .values(
                        updated_at=now, attempts=_table.attempts + 1, status=status,
                        last_error=error,
                    )
                    .returning(_table.job_id)
                )  # fmt: skip
                job_id = finished.scalar_one_or_none()
                if job_id is not None:
                    await conn.execute(
                        update(jobs)
                        .where(jobs.c.id == job_id)
                        .values(updated_at=now, callback_status=callback.value)
                    )

    async def _update(self, message_id: str, **changes: Any) -> None:
        with database_errors("update webhook"):
            async with self._engine.begin() as conn:
                await conn.execute(
                    update(webhook_deliveries)
                    .where(_table.id == message_id, _table.status == "pending")
                    .values(updated_at=self._clock.now(), **changes)
                )


def _row_to_entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        message=WebhookMessage(
            id=row["id"], job_id=row["job_id"], url=row["url"], payload=bytes(row["payload"])
        ),
        attempts=row["attempts"],
        created_at=as_utc(row["created_at"]),
    )
