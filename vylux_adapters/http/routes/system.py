"""``/healthz``, ``/readyz`` and ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from vylux_adapters.http.errors import PLAIN_TEXT, not_found, plain_error
from vylux_core.services import ReadinessService


async def healthz(_request: Request) -> Response:
    """Liveness only: answers as long as the process serves requests."""
    return PlainTextResponse("OK", media_type=PLAIN_TEXT)


async def no_metrics(request: Request) -> Response:
    """``/metrics`` when this process exposes none."""
    return not_found(request.scope)


class ReadinessRoute:
    def __init__(self, *, readiness: ReadinessService) -> None:
        self._readiness = readiness

    async def __call__(self, request: Request) -> Response:
        failing = await self._readiness.failing()
        if failing:
            # Names only: error texts can reveal internal addresses (D39).
            return plain_error(503, "not ready: " + ", ".join(failing), request.scope)
        return PlainTextResponse("OK", media_type=PLAIN_TEXT)


class OpenApiRoute:
    def __init__(self, *, document: dict[str, Any]) -> None:
        self._document = document

    async def __call__(self, _request: Request) -> Response:
        return JSONResponse(self._document)
