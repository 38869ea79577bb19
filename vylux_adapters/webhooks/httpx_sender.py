"""HttpxWebhookSender: one guarded, traced POST per delivery attempt."""

from __future__ import annotations

import ssl

import httpcore
import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, Status, StatusCode

from vylux_adapters.telemetry.tracing import inject_carrier, trace_id_hex
from vylux_adapters.webhooks.destination import PinnedTransport, Resolver
from vylux_core.errors import UnsafeDestination
from vylux_core.ports.webhook_sender import DeliveryAttempt, WebhookRequest
from vylux_core.webhooks.callback_policy import RESOLVE_TIMEOUT_SECONDS

REQUEST_TIMEOUT_SECONDS = 10.0
TRACER_NAME = "vylux/webhooks"


class HttpxWebhookSender:
    """Redirects are not followed (a 3xx is a failed attempt).

    Every attempt resolves the destination once and connects to exactly the addresses
    it got (:class:`PinnedTransport`). Unless ``allow_private`` is set, it is refused
    when any of them is loopback, private or link-local: a job's callback must not
    become a way into the internal network (D36), also not by a name that answers
    differently the next time it is asked.

    Each attempt is a client span of ``tracer_provider``: the outbox is worked through
    outside any request or job attempt, so without its own span an attempt would have
    no trace context to send. ``traceparent`` and ``X-Trace-ID`` therefore go out on
    every attempt, recorded or not (without a provider the spans are non-recording).

    ``resolver``, ``network_backend`` and ``ssl_context`` replace the system's; tests
    use them to stand in for DNS and the internet.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        provider = tracer_provider or TracerProvider(sampler=ALWAYS_OFF)
        self._tracer = provider.get_tracer(TRACER_NAME)
        transport = PinnedTransport(
            vet=not allow_private,
            resolve_timeout=resolve_timeout,
            resolver=resolver,
            network_backend=network_backend,
            ssl_context=ssl_context,
        )
        # No proxies from the environment: a proxy would resolve the name once more.
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=request_timeout,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, request: WebhookRequest) -> DeliveryAttempt:
        with self._tracer.start_as_current_span(
            "webhook POST", kind=SpanKind.CLIENT, attributes={"http.request.method": "POST"}
        ) as span:
            attempt = await self._post(request)
            if attempt.status_code is not None:
                span.set_attribute("http.response.status_code", attempt.status_code)
            if not attempt.delivered:
                span.set_status(Status(StatusCode.ERROR, attempt.error))
            return attempt

    async def _post(self, request: WebhookRequest) -> DeliveryAttempt:
        headers = dict(request.headers)
        headers.update(inject_carrier())
        trace_id = trace_id_hex()
        if trace_id:
            headers["X-Trace-ID"] = trace_id
        try:
            response = await self._client.post(request.url, content=request.body, headers=headers)
        except UnsafeDestination as refused:
            return DeliveryAttempt(delivered=False, error=str(refused))
        except httpx.HTTPError as error:
            return DeliveryAttempt(delivered=False, error=f"{type(error).__name__}: {error}"[:300])
        delivered = 200 <= response.status_code < 300
        return DeliveryAttempt(
            delivered=delivered,
            status_code=response.status_code,
            error=None if delivered else f"HTTP {response.status_code}",
        )
