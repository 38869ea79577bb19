"""RequestIdMiddleware: every response carries ``X-Request-Id`` (spec §2.1 step 2)."""

from __future__ import annotations

import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.scope_keys import REQUEST_ID

REQUEST_ID_LENGTH = 32
_HEADER = b"x-request-id"


def new_request_id(rng: random.Random) -> str:
    """32 random alphanumeric characters (lower-case hex), as the spec asks.

    Request ids correlate log lines; they guard nothing, so a per-process PRNG seeded
    from the OS is enough. The OS generator cost a system call per id, and drawing
    the 32 characters one by one about 8 µs: both large shares of serving a cached
    rendition.
    """
    return format(rng.getrandbits(128), "032x")


class RequestIdMiddleware:
    """Echoes a non-empty incoming ``X-Request-Id``, otherwise makes one up; the id is
    also left in the scope so error logs can name it."""

    def __init__(self, app: ASGIApp, rng: random.Random | None = None) -> None:
        self._app = app
        self._rng = rng or random.Random()  # seeded from os.urandom

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or new_request_id(self._rng)
        scope[REQUEST_ID] = request_id
        header = (_HEADER, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [pair for pair in message.get("headers", ()) if pair[0] != _HEADER]
                message["headers"] = [*headers, header]
            await send(message)

        await self._app(scope, receive, send_with_id)


def _incoming_id(scope: Scope) -> str | None:
    # ASGI servers hand header names over lower-cased.
    for name, value in scope["headers"]:
        if name == _HEADER and value:
            return str(value.decode("latin-1"))
    return None
