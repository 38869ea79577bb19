"""WebhookDeliverer: works through the outbox until every callback is delivered or
given up on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

from vylux_core.jobs.retry_backoff import Backoff
from vylux_core.ports.clock import Clock
from vylux_core.ports.webhook_outbox import WebhookOutbox
from vylux_core.ports.webhook_sender import WebhookRequest, WebhookSender
from vylux_core.webhooks.message import OutboxEntry, signed_headers
from vylux_core.worker.periodic import run_periodically

logger = logging.getLogger(__name__)

# 1 s, 2 s, 4 s … doubling after each failed attempt, at most an hour.
WEBHOOK_BACKOFF = Backoff(first=1.0, ceiling=3600.0)
# A receiver down for a deploy or an incident still gets the outcome within a day (D103).
GIVE_UP_AFTER = timedelta(hours=24)


class DeliveryOutcome(StrEnum):
    """What became of one delivery attempt (the ``outcome`` of the deliveries counter)."""

    DELIVERED = "delivered"
    RETRY = "retry"  # failed; tried again later
    FAILED = "failed"  # failed; given up on


class WebhookDeliverer:
    def __init__(
        self,
        *,
        outbox: WebhookOutbox,
        sender: WebhookSender,
        clock: Clock,
        secret: str,
        batch: int = 50,
        interval: float = 1.0,
        record_outcome: Callable[[DeliveryOutcome], None] | None = None,
    ) -> None:
        self._record_outcome = record_outcome
        self._outbox = outbox
        self._sender = sender
        self._clock = clock
        self._secret = secret
        self._batch = batch
        self._interval = interval

    async def tick(self) -> int:
        """One pass over the due entries; returns how many were delivered."""
        delivered = 0
        for entry in await self._outbox.due(self._clock.now(), self._batch):
            delivered += await self._deliver(entry)
        return delivered

    async def run(self) -> None:
        await run_periodically(
            self.tick, clock=self._clock, interval=self._interval, name="webhook delivery"
        )

    async def _deliver(self, entry: OutboxEntry) -> int:
        outcome = await self._attempt(entry)
        if self._record_outcome is not None:
            self._record_outcome(outcome)
        return 1 if outcome is DeliveryOutcome.DELIVERED else 0

    async def _attempt(self, entry: OutboxEntry) -> DeliveryOutcome:
        message = entry.message
        now = self._clock.now()
        headers = signed_headers(self._secret, message.payload, int(now.timestamp()))
        attempt = await self._sender.send(
            WebhookRequest(url=message.url, body=message.payload, headers=headers)
        )
        if attempt.delivered:
            await self._outbox.mark_sent(message.id)
            return DeliveryOutcome.DELIVERED
        error = attempt.error or f"HTTP {attempt.status_code}"
        # The back-off counts from the failure, not from the start of a slow attempt.
        failed_at = self._clock.now()
        if failed_at - entry.created_at >= GIVE_UP_AFTER:
            await self._outbox.mark_failed(message.id, error)
            logger.warning("webhook for job %s given up: %s", message.job_id, error)
            return DeliveryOutcome.FAILED
        next_at = failed_at + timedelta(seconds=WEBHOOK_BACKOFF.delay(entry.attempts))
        await self._outbox.reschedule(message.id, next_at, error)
        logger.info(
            "webhook for job %s failed (%s); next try at %s", message.job_id, error, next_at
        )
        return DeliveryOutcome.RETRY
