"""MemoryWebhookOutbox: the WebhookOutbox port on a dict (shared with MemoryJobStore)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs
from attrs import define

from vylux_core.jobs.job import CallbackStatus
from vylux_core.webhooks.message import OutboxEntry, WebhookMessage


@define(kw_only=True)
class _Row:
    entry: OutboxEntry
    next_attempt_at: datetime
    status: str = "pending"
    last_error: str | None = None


CallbackSetter = Callable[[str, CallbackStatus], None]


class MemoryWebhookOutbox:
    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._set_callback: CallbackSetter | None = None

    def attach(self, set_callback: CallbackSetter) -> None:
        """Called by the MemoryJobStore it belongs to: finishing an entry sets the job's
        callback status, without an await in between (one atomic step)."""
        self._set_callback = set_callback

    def add(self, message: WebhookMessage, now: datetime) -> None:
        """Called by MemoryJobStore when it records a final outcome; idempotent."""
        if message.id not in self._rows:
            entry = OutboxEntry(message=message, attempts=0, created_at=now)
            self._rows[message.id] = _Row(entry=entry, next_attempt_at=now)

    def status_of(self, message_id: str) -> str | None:
        row = self._rows.get(message_id)
        return None if row is None else row.status

    async def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        due = [
            row
            for row in self._rows.values()
            if row.status == "pending" and row.next_attempt_at <= now
        ]
        due.sort(key=lambda row: (row.next_attempt_at, row.entry.created_at))
        return [row.entry for row in due[:limit]]

    async def mark_sent(self, message_id: str) -> None:
        self._finish(message_id, "sent", None, CallbackStatus.SENT)

    async def reschedule(self, message_id: str, next_attempt_at: datetime, error: str) -> None:
        row = self._rows.get(message_id)
        if row is not None and row.status == "pending":
            row.entry = attrs.evolve(row.entry, attempts=row.entry.attempts + 1)
            row.next_attempt_at, row.last_error = next_attempt_at, error

    async def mark_failed(self, message_id: str, error: str) -> None:
        self._finish(message_id, "failed", error, CallbackStatus.FAILED)

    def _finish(
        self, message_id: str, status: str, error: str | None, callback: CallbackStatus
    ) -> None:
        row = self._rows.get(message_id)
        if row is not None and row.status == "pending":
            row.entry = attrs.evolve(row.entry, attempts=row.entry.attempts + 1)
            row.status, row.last_error = status, error
            if self._set_callback is not None:
                self._set_callback(row.entry.message.job_id, callback)
