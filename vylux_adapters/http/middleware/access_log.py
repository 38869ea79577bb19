"""The optional access log (ACCESS_LOG=true): one INFO line per HTTP request."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.handoff import request_id_of, route_template
from vylux_adapters.http.middleware.observed import run_observed

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

        def log(status: int, seconds: float) -> None:
            client = scope.get("client")
            logger.info(
                "%s %s route=%s status=%d duration=%.3fs client=%s request_id=%s",
                scope["method"], scope["path"], route_template(scope), status, seconds,
                client[0] if client else "-", request_id_of(scope),
            )  # fmt: skip

        await run_observed(self._app, scope, receive, send, log)
