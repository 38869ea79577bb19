"""RecoveryMiddleware: an exception no route handled becomes a logged 500 (spec §2.1 step 1)."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.errors import internal_error
from vylux_adapters.http.scope_keys import REQUEST_ID

logger = logging.getLogger(__name__)


class RecoveryMiddleware:
    """Sits inside the request-id middleware, so the 500 still carries ``X-Request-Id``
    and the log line names it. Once a response has started nothing can be answered
    any more: the error is re-raised and the server drops the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        except Exception as error:
            logger.error(
                "unhandled error serving %s %s (request id %s)",
                scope.get("method"),
                scope.get("path"),
                scope.get(REQUEST_ID, "-"),
                exc_info=error,
            )
            if started:
                raise
            await internal_error(scope)(scope, receive, send)
