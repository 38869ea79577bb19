"""``/original``, ``/thumb`` and ``/stream``: objects streamed from storage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from vylux_adapters.http.byte_ranges import (
    content_range,
    parse_range,
    range_length,
    resolve,
)
from vylux_adapters.http.errors import range_not_satisfiable
from vylux_adapters.http.responses import NOSNIFF, ReaderResponse, is_head
from vylux_adapters.http.routing import REST_PARAM
from vylux_core.errors import InvalidInput
from vylux_core.ports.object_store import ByteRange
from vylux_core.services import Delivery, DeliveryService

Opener = Callable[[ByteRange | None], Awaitable[Delivery]]


class DeliveryRoutes:
    def __init__(self, *, delivery: DeliveryService) -> None:
        self._delivery = delivery

    async def original(self, request: Request) -> Response:
        sig, key = request.path_params["sig"], request.path_params[REST_PARAM]
        return await _serve(request, lambda r: self._delivery.original(sig, key, r), cors=False)

    async def thumb(self, request: Request) -> Response:
        sig, key = request.path_params["sig"], request.path_params[REST_PARAM]
        return await _serve(request, lambda r: self._delivery.thumb(sig, key, r), cors=True)

    async def stream(self, request: Request) -> Response:
        media_hash, path = request.path_params["hash"], request.path_params[REST_PARAM]
        return await _serve(
            # CORS comes from the route's policy (STREAM_CORS_ALLOWED_ORIGINS).
            request,
            lambda r: self._delivery.stream(media_hash, path, r),
            cors=False,
        )


async def _serve(request: Request, open_object: Opener, *, cors: bool) -> Response:
    wanted = parse_range(request.headers.get("range"), request.headers.get("if-range"))
    if wanted is None:
        return _respond(request, await open_object(None), None, cors=cors)
    if wanted.is_suffix:
        # A suffix needs the size first; ByteRange has no "last n bytes" form.
        size = await _size_of(open_object)
        byte_range = resolve(wanted, size)
        if byte_range is None:
            return range_not_satisfiable(request.scope, size)
    else:
        byte_range = ByteRange(wanted.first or 0, wanted.last)
    try:
        delivery = await open_object(byte_range)
    except InvalidInput as error:
        if not _is_range_error(error):
            raise
        return range_not_satisfiable(request.scope, await _size_of(open_object))
    return _respond(request, delivery, byte_range, cors=cors)


def _respond(
    request: Request, delivery: Delivery, byte_range: ByteRange | None, *, cors: bool
) -> Response:
    size = delivery.reader.info.size
    headers = {"Content-Type": delivery.content_type, "Accept-Ranges": "bytes", **NOSNIFF}
    if delivery.as_attachment:
        # HTML/SVG/XML from a bucket would otherwise run as script on our origin (D30).
        headers["Content-Disposition"] = "attachment"
    if cors:
        headers["Access-Control-Allow-Origin"] = "*"
    if byte_range is None:
        status = 200
        headers["Content-Length"] = str(size)
    else:
        status = 206
        headers["Content-Range"] = content_range(byte_range, size)
        headers["Content-Length"] = str(range_length(byte_range, size))
    return ReaderResponse(
        delivery.reader,
        status_code=status,
        headers=headers,
        include_body=not is_head(request.scope),
    )


async def _size_of(open_object: Opener) -> int:
    """The object's size, read from a one-byte range (cheap on every backend)."""
    try:
        probe = await open_object(ByteRange(0, 0))
    except InvalidInput as error:
        if not _is_range_error(error):
            raise
        return 0  # even byte 0 is past the end: the object is empty
    try:
        return probe.reader.info.size
    finally:
        await probe.reader.aclose()


def _is_range_error(error: InvalidInput) -> bool:
    # The ObjectStore port raises plain InvalidInput for a range starting past the end;
    # the service's own checks raise subclasses (bad key, bad type, bad hash) first.
    return type(error) is InvalidInput
