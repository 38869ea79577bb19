"""Success responses that know about HEAD, and streaming of opened objects."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from vylux_core.ports.object_store import ObjectReader

NOSNIFF = {"X-Content-Type-Options": "nosniff"}
NOSNIFF_HEADER = (b"x-content-type-options", b"nosniff")


def is_head(scope: Scope) -> bool:
    return scope.get("method") == "HEAD"


class BytesResponse:
    """A whole body with its headers already in ASGI form (lower-case byte pairs).

    For the cached ``/img`` answer: Starlette's ``Response`` encodes, lower-cases and
    completes every header on each request, which costs as much as finding the
    rendition. The caller gives every header, ``Content-Length`` included.
    """

    __slots__ = ("body", "headers", "status_code")

    def __init__(
        self, body: bytes, *, headers: list[tuple[bytes, bytes]], status_code: int = 200
    ) -> None:
        self.body = body
        self.headers = headers
        self.status_code = status_code

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.headers}
        )
        await send({"type": "http.response.body", "body": self.body})


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
