"""HTTP metrics middleware.

After each response it increments ``vylux_http_requests_total`` and observes
``vylux_http_request_duration_seconds`` with ``{method, route, status}``, the route
being the template of the route Starlette's router matched (``unmatched`` else), and
turns the request's image outcome, which the image routes hand over through
:mod:`vylux_adapters.http.handoff`, into the cache-event, result and error counters.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.handoff import ImageError, image_outcome_of, route_template
from vylux_adapters.http.middleware.observed import run_observed
from vylux_adapters.telemetry.metrics import Metrics


class HttpMetricsMiddleware:
    """Counts every HTTP request; other ASGI scopes pass through untouched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        def observe(status: int, seconds: float) -> None:
            self._metrics.observe_http_request(
                scope["method"], route_template(scope), status, seconds
            )
            outcome = image_outcome_of(scope)
            if isinstance(outcome, ImageError):
                self._metrics.record_image_error(outcome.stage, outcome.status)
            elif outcome is not None:
                self._metrics.record_image_rendition(outcome)

        await run_observed(self._app, scope, receive, send, observe)
