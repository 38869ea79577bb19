"""RecordingWebhookSender: keeps every request and answers from a script."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from vylux_core.ports.webhook_sender import DeliveryAttempt, WebhookRequest


class RecordingWebhookSender:
    """Answers 204 unless ``failures`` says how many of the next calls fail (with 500)."""

    def __init__(self, failures: Iterable[int] = ()) -> None:
        self.requests: list[WebhookRequest] = []
        self._statuses: deque[int] = deque(failures)

    async def send(self, request: WebhookRequest) -> DeliveryAttempt:
        self.requests.append(request)
        status = self._statuses.popleft() if self._statuses else 204
        if 200 <= status < 300:
            return DeliveryAttempt(delivered=True, status_code=status)
        return DeliveryAttempt(delivered=False, status_code=status, error=f"HTTP {status}")
