"""RecordingWebhookSender: keeps every request and answers from a script."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from vylux_core.errors import UnsafeDestination
from vylux_core.ports.webhook_sender import DeliveryAttempt, WebhookRequest
from vylux_core.webhooks.callback_policy import callback_endpoint, literal_address, refuse_private

NO_ANSWER = None
"""A script entry: the destination did not answer (refused, reset or timed out)."""


class RecordingWebhookSender:
    """Answers 204 unless the script (``failures``, then :meth:`script`) says otherwise
    for the next calls: an HTTP status, or :data:`NO_ANSWER`.

    ``requests`` holds every request that left; unless ``allow_private``, one to an
    address literal that is not public is refused first, as the real sender refuses
    it (names are not resolved here, so they count as public)."""

    def __init__(self, failures: Iterable[int | None] = (), *, allow_private: bool = True) -> None:
        self.requests: list[WebhookRequest] = []
        self._answers: deque[int | None] = deque(failures)
        self._allow_private = allow_private

    def script(self, *answers: int | None) -> None:
        """Append ``answers`` to the script, in order."""
        self._answers.extend(answers)

    async def send(self, request: WebhookRequest) -> DeliveryAttempt:
        if not self._allow_private:
            try:
                host, _ = callback_endpoint(request.url)
                address = literal_address(host)
                refuse_private(host, () if address is None else (address,))
            except UnsafeDestination as refused:
                return DeliveryAttempt(delivered=False, error=str(refused))
        self.requests.append(request)
        status = self._answers.popleft() if self._answers else 204
        if status is None:
            return DeliveryAttempt(delivered=False, error="ConnectError: no answer (scripted)")
        if 200 <= status < 300:
            return DeliveryAttempt(delivered=True, status_code=status)
        return DeliveryAttempt(delivered=False, status_code=status, error=f"HTTP {status}")
