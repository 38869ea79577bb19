"""The optional access log (ACCESS_LOG=true): one INFO line per HTTP request."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http import scope_keys
from vylux_adapters.http.middleware.metrics import route_of
from vylux_adapters.http.response_start import shape_response

logger = logging.getLogger("vylux.access")


class AccessLogMiddleware:
    """Logs each request after its response: method, path, route, status, duration,
    client and request id. The query string is left out: it is free text a client may
    fill with anything, tokens included. Placed inside the tracing middleware, so the
    line carries the request's ``trace_id``."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        response, send = shape_response(scope, send)
        try:
            await self._app(scope, receive, send)
        finally:
            client = scope.get("client")
            logger.info(
                "%s %s route=%s status=%d duration=%.3fs client=%s request_id=%s",
                scope["method"], scope["path"], route_of(scope), response.status or 500,
                time.perf_counter() - started, client[0] if client else "-",
                scope.get(scope_keys.REQUEST_ID, "-"),
            )  # fmt: skip
