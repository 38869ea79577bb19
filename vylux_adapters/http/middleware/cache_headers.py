"""CacheHeadersMiddleware: CDN headers on delivery successes only."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
# 206 and 304 are successes too: a partial or a not-modified answer of immutable bytes.
_CACHEABLE = frozenset({200, 206, 304})
_CACHE_CONTROL = b"cache-control"
IMMUTABLE_HEADER = (_CACHE_CONTROL, IMMUTABLE.encode("ascii"))
"""The header itself, for routes that build their successes' headers whole (the
image routes) and so need no middleware to add it."""


class CacheHeadersMiddleware:
    """``Cache-Control: public, max-age=31536000, immutable`` on 200/206/304; removed
    from anything else, so a CDN never keeps an error for a year.

    No ``Vary: Accept``: nothing depends on ``Accept`` (the format is the URL's
    extension), and it would split CDN caches per browser (D43).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_cache_control(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [pair for pair in message.get("headers", ()) if pair[0] != _CACHE_CONTROL]
                if message["status"] in _CACHEABLE:
                    headers.append(IMMUTABLE_HEADER)
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, send_with_cache_control)
