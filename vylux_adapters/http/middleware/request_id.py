"""RequestIdMiddleware: every response carries ``X-Request-Id`` (spec §2.1 step 2)."""

from __future__ import annotations

import random
import string

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.scope_keys import REQUEST_ID

_ALPHABET = string.ascii_letters + string.digits
REQUEST_ID_LENGTH = 32


def new_request_id(rng: random.Random) -> str:
    """32 random alphanumeric characters, like the reference's generator.

    Request ids correlate log lines; they guard nothing, so a per-process PRNG seeded
    from the OS is enough. The OS generator cost a system call per id (tens of µs
    here), a large share of serving a cached rendition.
    """
    return "".join(rng.choices(_ALPHABET, k=REQUEST_ID_LENGTH))


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
        request_id = Headers(scope=scope).get("x-request-id") or new_request_id(self._rng)
        scope[REQUEST_ID] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        await self._app(scope, receive, send_with_id)
