"""Endpoint: one request handler as an ASGI app, with its family's error answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from vylux_adapters.http.errors import Family, error_response

Handler = Callable[[Request], Awaitable[Response]]


class Endpoint:
    """Runs ``handler``; whatever it raises is answered from the error table of
    ``family`` (unknown errors as a logged 500). Cancellation is not an error and
    passes through."""

    def __init__(self, handler: Handler, *, family: Family) -> None:
        self._handler = handler
        self._family = family

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._handler(request)
        except Exception as error:
            response = error_response(self._family, error, scope)
        await response(scope, receive, send)
