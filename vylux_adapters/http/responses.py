"""Success responses that know about HEAD, and streaming of opened objects."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from vylux_core.ports.object_store import ObjectReader

NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def is_head(scope: Scope) -> bool:
    return scope.get("method") == "HEAD"


def bytes_response(
    scope: Scope, data: bytes, *, content_type: str, headers: dict[str, str] | None = None
) -> Response:
    """200 with ``data``; for HEAD the same headers (Content-Length included), no body."""
    all_headers = {
        **(headers or {}),
        "Content-Type": content_type,
        "Content-Length": str(len(data)),
    }
    return Response(b"" if is_head(scope) else data, headers=all_headers)


class ReaderResponse(StreamingResponse):
    """Streams an :class:`ObjectReader` and always closes it afterwards.

    The close runs in ``finally`` around the whole response and is shielded from
    cancellation, so a client that disconnects half-way (Starlette cancels the
    stream) or a HEAD request (nothing is read) still releases the storage
    connection.
    """

    def __init__(
        self,
        reader: ObjectReader,
        *,
        status_code: int,
        headers: dict[str, str],
        include_body: bool,
    ) -> None:
        self._reader = reader
        body = _chunks(reader) if include_body else _nothing()
        super().__init__(body, status_code=status_code, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._reader.aclose()


async def _chunks(reader: ObjectReader) -> AsyncIterator[bytes]:
    async for chunk in reader.chunks():
        if chunk:
            yield chunk


async def _nothing() -> AsyncIterator[bytes]:
    empty: tuple[bytes, ...] = ()
    for chunk in empty:  # an async generator that yields nothing (HEAD)
        yield chunk
