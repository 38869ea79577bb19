"""BodyLimitMiddleware: how a request body is read.

Bodies above a cap are refused with 413 (spec §2.5, §13.21); a body that does not
arrive whole within a deadline with 408; a client that goes away mid-body is counted
as 499, logged at INFO.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.errors import (
    BodyReadTimeout,
    BodyTooLarge,
    ClientClosedRequest,
    Family,
    error_response,
)
from vylux_adapters.http.response_start import shape_response
from vylux_adapters.http.scope_keys import REQUEST_ID

logger = logging.getLogger(__name__)

_NO_BODY_WITHOUT_FRAMING = frozenset({"1.0", "1.1"})


def _framing(scope: Scope) -> tuple[str | None, bool]:
    """The first ``Content-Length`` value, and whether ``Transfer-Encoding`` is present."""
    declared: str | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length" and declared is None:
            declared = value.decode("latin-1")
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


class BodyLimitMiddleware:
    """A declared ``Content-Length`` over the cap is refused before anything is read;
    a chunked body is counted as the route reads it, and the read that crosses the
    cap raises :class:`BodyTooLarge` instead of returning, so no more is read.

    From the route's first read, the whole body must arrive within ``read_timeout``
    seconds, however it trickles in: the read past the deadline raises
    :class:`BodyReadTimeout` (408, ``Connection: close``, as the rest of the body
    would otherwise be read as the next request). A disconnect before the body is
    complete raises :class:`ClientClosedRequest` (499) instead of Starlette's
    ``ClientDisconnect``, which no error rule knows and so became a logged 500.
    Reads after the body is complete pass through untouched (a streaming response
    waits on them for the disconnect).
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, family: Family, read_timeout: float
    ) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._family = family
        self._read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared, chunked = _framing(scope)
        if (
            declared is None
            and not chunked
            and scope.get("http_version") in _NO_BODY_WITHOUT_FRAMING
        ):
            # HTTP/1.x: no Content-Length and no Transfer-Encoding means no body at all
            # (RFC 9112 §6.3), so there is nothing to count. Most requests are GETs.
            await self._app(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
            await error_response(self._family, BodyTooLarge(), scope)(scope, receive, send)
            return
        received = 0
        complete = False
        deadline: float | None = None
        response, send = shape_response(scope, send)

        async def limited_receive() -> Message:
            nonlocal received, complete, deadline
            if complete:
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self._read_timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                response.set_headers[b"connection"] = b"close"
                raise BodyReadTimeout() from None
            if message["type"] == "http.disconnect":
                logger.info(
                    "client closed the connection after %d bytes of the request body "
                    "of %s %s (request id %s)",
                    received,
                    scope.get("method"),
                    scope.get("path"),
                    scope.get(REQUEST_ID, "-"),
                )
                raise ClientClosedRequest()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    raise BodyTooLarge()
                complete = not message.get("more_body", False)
            return message

        try:
            await self._app(scope, limited_receive, send)
        except (BodyTooLarge, BodyReadTimeout, ClientClosedRequest) as error:
            # Routes normally answer these through the error table themselves.
            if response.started:
                raise
            await error_response(self._family, error, scope)(scope, receive, send)
