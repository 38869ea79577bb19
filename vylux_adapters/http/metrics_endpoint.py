"""``/metrics`` and the worker-only listener.

Both are plain ASGI callables (class instances, so Starlette's ``Route`` mounts them
as apps rather than as request handlers): the main application serves
:class:`MetricsApp` as its ``/metrics`` route.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.types import Receive, Scope, Send

from vylux_adapters.http.lifespan import answer_lifespan
from vylux_adapters.telemetry.metrics import (
    EXPOSITION_CONTENT_TYPE,
    Metrics,
    Registry,
    render_exposition,
)
from vylux_core.jobs.task import QueueStats

logger = logging.getLogger(__name__)

QueueStatsSource = Callable[[], Awaitable[list[QueueStats]]]
OutboxDepthSource = Callable[[], Awaitable[int]]
# A scrape must answer even when Redis hangs; Prometheus's own default timeout is 10 s.
QUEUE_STATS_TIMEOUT_SECONDS = 5.0
PLAIN_TEXT = b"text/plain; charset=UTF-8"


class MetricsApp:
    """Refreshes ``vylux_queue_tasks`` from ``queue_stats`` (when given), then renders
    ``registry`` in the Prometheus text format. A failed or slow refresh increments
    ``vylux_queue_metrics_sync_failures_total`` and the previous values are served.
    ``vylux_webhook_outbox_depth`` is refreshed from ``outbox_depth`` the same way (a
    failed read is logged and the previous value served)."""

    def __init__(
        self,
        metrics: Metrics,
        registry: Registry,
        queue_stats: QueueStatsSource | None,
        *,
        queue_stats_timeout: float = QUEUE_STATS_TIMEOUT_SECONDS,
        outbox_depth: OutboxDepthSource | None = None,
    ) -> None:
        self._outbox_depth = outbox_depth
        self._metrics = metrics
        self._registry = registry
        self._queue_stats = queue_stats
        self._timeout = queue_stats_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self.render()
        await _respond(scope, send, 200, EXPOSITION_CONTENT_TYPE.encode("ascii"), body)

    async def render(self) -> bytes:
        await self._refresh_queue_stats()
        await self._refresh_outbox_depth()
        return render_exposition(self._registry)

    async def _refresh_queue_stats(self) -> None:
        if self._queue_stats is None:
            return
        try:
            async with asyncio.timeout(self._timeout):
                stats = await self._queue_stats()
        # Whatever went wrong, the scrape still answers: the failure is what the
        # counter exists for, and the rest of the exposition stays useful.
        except Exception as error:
            self._metrics.record_queue_sync_failure()
            logger.warning("queue metrics refresh failed: %s", type(error).__name__)
            return
        self._metrics.set_queue_stats(stats)

    async def _refresh_outbox_depth(self) -> None:
        if self._outbox_depth is None:
            return
        try:
            async with asyncio.timeout(self._timeout):
                pending = await self._outbox_depth()
        # As above: the scrape answers whatever the database does.
        except Exception as error:
            logger.warning("webhook outbox depth refresh failed: %s", type(error).__name__)
            return
        self._metrics.set_webhook_outbox_depth(pending)


class WorkerListenerApp:
    """The worker's own port: ``/healthz`` (plain ``OK``) and ``/metrics``, 404 else.

    It is served on its own (not inside Starlette), so it also answers the ASGI
    lifespan protocol the server opens with.
    """

    def __init__(self, metrics_endpoint: MetricsApp) -> None:
        self._metrics = metrics_endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path not in ("/healthz", "/metrics"):
            await _respond(scope, send, 404, PLAIN_TEXT, b"Not Found")
        elif scope["method"] not in ("GET", "HEAD"):
            await _respond(
                scope, send, 405, PLAIN_TEXT, b"Method Not Allowed", [(b"allow", b"GET, HEAD")]
            )
        elif path == "/healthz":
            await _respond(scope, send, 200, PLAIN_TEXT, b"OK")
        else:
            await self._metrics(scope, receive, send)


def metrics_app(
    metrics: Metrics,
    registry: Registry,
    queue_stats: QueueStatsSource | None = None,
    outbox_depth: OutboxDepthSource | None = None,
) -> MetricsApp:
    """The ``/metrics`` ASGI app; ``queue_stats`` is typically ``task_queue.stats``."""
    return MetricsApp(metrics, registry, queue_stats, outbox_depth=outbox_depth)


def worker_listener_app(
    metrics: Metrics,
    registry: Registry,
    queue_stats: QueueStatsSource | None = None,
) -> WorkerListenerApp:
    """The ASGI app of ``WORKER_METRICS_PORT`` in ``MODE=worker``."""
    return WorkerListenerApp(MetricsApp(metrics, registry, queue_stats))


async def _respond(
    scope: Scope,
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode("ascii")),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
