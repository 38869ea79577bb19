"""HTTP metrics middleware (http-api §2.1 step 4) and the ``/img`` metrics hand-off.

Contract with the router and the routes (keys of the ASGI ``scope`` dict, which the
router and every middleware below this one must mutate in place, as Starlette does):

* ``scope["vylux.route"]`` — the matched route template of the §3 table, e.g.
  ``"/img/:sig/:opts/*"``, set by the router. Absent → ``route="unmatched"``.
* ``scope["vylux.image"]`` — set by the ``/img`` route through
  :func:`mark_image_result` once it knows the outcome, and only then: either a
  :class:`~vylux_core.services.RenditionSource` (``memory_hit``, ``storage_hit``,
  ``processed``) or an error mark: an :data:`ImageError` tuple ``(stage, status)``, or
  any object with ``stage`` and ``status`` attributes (``scope_keys.ImageError``), with
  stage ``"source_fetch"`` (404/502) or ``"process"`` (422/500). Requests rejected
  with 400/403 are not marked and record no image metrics (§5.1.9).

After the response, this middleware increments ``vylux_http_requests_total`` and
observes ``vylux_http_request_duration_seconds`` with ``{method, route, status}``, and
turns the image mark into the cache-event, result and error counters.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.response_start import shape_response
from vylux_adapters.telemetry.metrics import ImageErrorStage, Metrics
from vylux_core.services import RenditionSource

ROUTE_SCOPE_KEY = "vylux.route"
IMAGE_SCOPE_KEY = "vylux.image"
UNMATCHED_ROUTE = "unmatched"

ImageError = tuple[ImageErrorStage, int]
ImageOutcome = RenditionSource | ImageError


def mark_image_result(scope: MutableMapping[str, Any], outcome: ImageOutcome) -> None:
    """Record how an ``/img`` request ended, for the metrics middleware to count.

    Call it with ``request.scope`` and the rendition's ``source`` on success, or with
    ``("source_fetch", 404 | 502)`` / ``("process", 422 | 500)`` on failure.
    """
    scope[IMAGE_SCOPE_KEY] = outcome


def route_of(scope: Scope) -> str:
    """The route template the router stored, or ``"unmatched"``."""
    route = scope.get(ROUTE_SCOPE_KEY)
    return route if isinstance(route, str) and route else UNMATCHED_ROUTE


class HttpMetricsMiddleware:
    """Counts every HTTP request; other ASGI scopes pass through untouched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        response, send = shape_response(scope, send)
        try:
            await self._app(scope, receive, send)
        finally:
            # An exception before the response started reaches the client as a 500
            # from the recovery layer above, so that is the status counted for it.
            self._metrics.observe_http_request(
                scope["method"],
                route_of(scope),
                response.status or 500,
                time.perf_counter() - started,
            )
            outcome = scope.get(IMAGE_SCOPE_KEY)
            if isinstance(outcome, RenditionSource):
                self._metrics.record_image_rendition(outcome)
            elif outcome is not None:
                self._record_image_error(outcome)

    def _record_image_error(self, outcome: object) -> None:
        # An (stage, status) tuple, or any object with those attributes (such as
        # ``vylux_adapters.http.scope_keys.ImageError``), is an error mark.
        if isinstance(outcome, tuple) and len(outcome) == 2:
            stage, status = outcome
        else:
            stage, status = getattr(outcome, "stage", None), getattr(outcome, "status", None)
        if stage in ("source_fetch", "process") and isinstance(status, int):
            self._metrics.record_image_error(stage, status)
