"""WebhookOutbox port: durable pending webhook deliveries.

Messages are added by the JobStore in the same transaction as a job's final status
(``complete``/``fail`` with ``webhook=``), so an outcome and its callback are never
recorded one without the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from vylux_core.webhooks.message import OutboxEntry


class WebhookOutbox(Protocol):
    async def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """Pending entries whose next attempt is due, oldest first."""
        ...

    async def mark_sent(self, message_id: str) -> None:
        """Delivered: never attempted again. The job's ``callback_status`` becomes
        ``sent`` in the same write, so a crash never leaves a delivered webhook's job
        showing ``pending`` (nothing would ever correct it)."""
        ...

    async def reschedule(self, message_id: str, next_attempt_at: datetime, error: str) -> None:
        """One more failed attempt; try again at ``next_attempt_at``."""
        ...

    async def mark_failed(self, message_id: str, error: str) -> None:
        """Given up: never attempted again; the job's ``callback_status`` becomes
        ``callback_failed`` in the same write."""
        ...
