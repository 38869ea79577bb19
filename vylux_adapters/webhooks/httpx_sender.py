"""HttpxWebhookSender: one guarded, traced POST per delivery attempt."""

from __future__ import annotations

import httpx

from vylux_adapters.telemetry.tracing import inject_carrier, trace_id_hex
from vylux_adapters.webhooks.destination import check_callback_destination
from vylux_core.callback_policy import RESOLVE_TIMEOUT_SECONDS
from vylux_core.errors import UnsafeDestination
from vylux_core.ports.webhook_sender import DeliveryAttempt, WebhookRequest

REQUEST_TIMEOUT_SECONDS = 10.0


class HttpxWebhookSender:
    """Redirects are not followed (a 3xx is a failed attempt), as in the reference.

    Unless ``allow_private`` is set, the destination is resolved first and refused
    when any address is loopback, private or link-local: a job's callback must not
    become a way into the internal network (W§16.16).
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        allow_private: bool,
        resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS,
    ) -> None:
        self._client = client
        self._allow_private = allow_private
        self._resolve_timeout = resolve_timeout

    @staticmethod
    def build_client() -> httpx.AsyncClient:
        return httpx.AsyncClient(follow_redirects=False, timeout=REQUEST_TIMEOUT_SECONDS)

    async def send(self, request: WebhookRequest) -> DeliveryAttempt:
        if not self._allow_private:
            try:
                await check_callback_destination(request.url, resolve_timeout=self._resolve_timeout)
            except UnsafeDestination as refused:
                return DeliveryAttempt(delivered=False, error=str(refused))
        headers = dict(request.headers)
        headers.update(inject_carrier())
        trace_id = trace_id_hex()
        if trace_id:
            headers["X-Trace-ID"] = trace_id
        try:
            response = await self._client.post(request.url, content=request.body, headers=headers)
        except httpx.HTTPError as error:
            return DeliveryAttempt(delivered=False, error=f"{type(error).__name__}: {error}"[:300])
        delivered = 200 <= response.status_code < 300
        return DeliveryAttempt(
            delivered=delivered,
            status_code=response.status_code,
            error=None if delivered else f"HTTP {response.status_code}",
        )
