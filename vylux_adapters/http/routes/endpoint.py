"""Endpoint: one request handler as an ASGI app, with its family's error answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.errors import Family, error_response

# A handler answers with anything that can send itself: a Starlette Response, or a
# lighter object where Starlette's header handling is too slow (BytesResponse).
Handler = Callable[[Request], Awaitable[ASGIApp]]


class Endpoint:
    """Runs ``handler``; whatever it raises is answered from the error table of
    ``family`` (unknown errors as a logged 500). Cancellation is not an error and
    passes through."""

    def __init__(self, handler: Handler, *, family: Family) -> None:
        self._handler = handler
        self._family = family

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: ASGIApp
        try:
            response = await self._handler(request)
        except Exception as error:
            response = error_response(self._family, error, scope)
        await response(scope, receive, send)
