"""RequestIdMiddleware: every response carries ``X-Request-Id`` (spec §2.1 step 2)."""

from __future__ import annotations

import secrets
import string

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.scope_keys import REQUEST_ID

_ALPHABET = string.ascii_letters + string.digits
REQUEST_ID_LENGTH = 32


def new_request_id() -> str:
    """32 random alphanumeric characters, like the reference's generator."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(REQUEST_ID_LENGTH))


class RequestIdMiddleware:
    """Echoes a non-empty incoming ``X-Request-Id``, otherwise makes one up; the id is
    also left in the scope so error logs can name it."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or new_request_id()
        scope[REQUEST_ID] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        await self._app(scope, receive, send_with_id)
