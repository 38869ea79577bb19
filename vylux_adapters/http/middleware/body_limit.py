"""BodyLimitMiddleware: request bodies above a cap are refused with 413 (spec §2.5, §13.21)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.errors import BodyTooLarge, Family, error_response
from vylux_adapters.http.response_start import shape_response

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
    cap raises :class:`BodyTooLarge` instead of returning, so no more is read."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, family: Family) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._family = family

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

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    raise BodyTooLarge()
            return message

        response, send = shape_response(scope, send)

        try:
            await self._app(scope, limited_receive, send)
        except BodyTooLarge as error:
            # Routes normally answer this through the error table themselves.
            if response.started:
                raise
            await error_response(self._family, error, scope)(scope, receive, send)
