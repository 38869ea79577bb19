"""Request handlers as ASGI apps, each answering errors from its family's table.

Starlette's ``request_response`` maps exceptions through app-wide handlers; here the
same error class answers differently per route family (a missing key is a JSON 404
on ``/original`` and a plain ``Not Found`` on ``/api/key``), so each endpoint knows
its family.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from attrs import frozen
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.errors import Family, error_response, status_of
from vylux_adapters.http.handoff import ImageError, attach_image_outcome
from vylux_core.errors import ProcessingFailed
from vylux_core.services import RenditionSource, SourceFetchFailed

# A handler answers with anything that can send itself: a Starlette Response, or a
# lighter object where Starlette's header handling is too slow (BytesResponse).
Handler = Callable[[Request], Awaitable[ASGIApp]]


@frozen
class ImageAnswer:
    """What an image route returns: the response and where its bytes came from."""

    response: ASGIApp
    source: RenditionSource


ImageHandler = Callable[[Scope], Awaitable[ImageAnswer]]
"""An image route reads only the matched path parameters and request headers, both in
the scope, so it is handed the scope itself rather than a Request built around it."""


class Endpoint:
    """Runs ``handler``; whatever it raises is answered from the error table of
    ``family`` (unknown errors as a logged 500). Cancellation is not an error and
    passes through."""

    def __init__(self, handler: Handler, *, family: Family) -> None:
        self._handler = handler
        self._family = family

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: ASGIApp
        try:
            response = await self._handler(Request(scope, receive))
        except Exception as error:
            response = error_response(self._family, error, scope)
        await response(scope, receive, send)


class ImageEndpoint:
    """An :class:`Endpoint` of the image family that also hands the request's image
    outcome to the metrics: the answer's source, or the stage that failed. Requests
    refused before a fetch (400/403) have no outcome."""

    def __init__(self, handler: ImageHandler) -> None:
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: ASGIApp
        try:
            answer = await self._handler(scope)
        except Exception as error:
            failure = image_error_of(error)
            if failure is not None:
                attach_image_outcome(scope, failure)
            response = error_response(Family.IMAGE, error, scope)
        else:
            attach_image_outcome(scope, answer.source)
            response = answer.response
        await response(scope, receive, send)


def image_error_of(error: Exception) -> ImageError | None:
    """The failed stage of an image request, with the status it is answered with."""
    if isinstance(error, SourceFetchFailed):
        return ImageError("source_fetch", status_of(Family.IMAGE, error))
    if isinstance(error, ProcessingFailed):
        return ImageError("process", status_of(Family.IMAGE, error))
    return None
