"""ApiKeyMiddleware: ``X-API-Key`` for the jobs and cleanup API."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.errors import INVALID_API_KEY, MISSING_API_KEY, Family, error_response
from vylux_core.errors import Unauthorized

_HEADER = b"x-api-key"


class ApiKeyMiddleware:
    """Wraps each ``/api`` route that needs the key (never ``/api/key/*``, never an
    unknown path: the router answers those first). It sits outside the rate limiter,
    so calls without the key never use up quota. The value is compared exactly (no
    trimming, no ``Bearer``) and in constant time."""

    def __init__(self, app: ASGIApp, *, api_key: str) -> None:
        self._app = app
        self._expected = api_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        presented = next((value for name, value in scope["headers"] if name == _HEADER), b"")
        if not presented:
            problem = MISSING_API_KEY
        elif not hmac.compare_digest(presented, self._expected):
            problem = INVALID_API_KEY
        else:
            await self._app(scope, receive, send)
            return
        await error_response(Family.JOBS, Unauthorized(problem), scope)(scope, receive, send)
