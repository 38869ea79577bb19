"""``GET /api/key/{hash}``: the content key of an encrypted HLS stream (spec §6.2)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vylux_core.services import KeyService


class KeyRoute:
    def __init__(self, *, keys: KeyService) -> None:
        self._keys = keys

    async def __call__(self, request: Request) -> Response:
        key = await self._keys.deliver(
            request.path_params["hash"], request.headers.get("authorization")
        )
        # A key must never sit in a shared cache.
        return Response(
            key, headers={"Content-Type": "application/octet-stream", "Cache-Control": "no-store"}
        )
