"""BodyLimitMiddleware: how a request body is read.

Bodies above a cap are refused with 413 (D34); a body that does not arrive whole
within a deadline with 408; a client that goes away mid-body is counted as 499,
logged at INFO.
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
from vylux_adapters.http.handoff import request_id_of

logger = logging.getLogger(__name__)

_NO_BODY_WITHOUT_FRAMING = frozenset({"1.0", "1.1"})
_CONNECTION = b"connection"
_CLOSE = (_CONNECTION, b"close")


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
        started = False
        close_connection = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if close_connection:
                    headers = [
                        pair for pair in message.get("headers", ()) if pair[0] != _CONNECTION
                    ]
                    headers.append(_CLOSE)
                    message["headers"] = headers
            await send(message)

        async def limited_receive() -> Message:
            nonlocal received, complete, deadline, close_connection
            if complete:
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self._read_timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                close_connection = True
                raise BodyReadTimeout() from None
            if message["type"] == "http.disconnect":
                logger.info(
                    "client closed the connection after %d bytes of the request body "
                    "of %s %s (request id %s)",
                    received,
                    scope.get("method"),
                    scope.get("path"),
                    request_id_of(scope),
                )
                raise ClientClosedRequest()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    raise BodyTooLarge()
                complete = not message.get("more_body", False)
            return message

        try:
            await self._app(scope, limited_receive, send_noting_start)
        except (BodyTooLarge, BodyReadTimeout, ClientClosedRequest) as error:
            # Routes normally answer these through the error table themselves.
            if started:
                raise
            await error_response(self._family, error, scope)(scope, receive, send_noting_start)
