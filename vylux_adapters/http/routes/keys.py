"""The content key of an encrypted HLS stream for players.

``GET /api/key/{hash}`` answers the 16 raw key bytes (HLS ``EXT-X-KEY``);
``POST /api/key/{hash}/clearkey`` answers a W3C Clear Key licence for browsers' EME.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vylux_adapters.http.strict_json import parse_json_body
from vylux_core.security.clearkey import decode_license_request, license_response
from vylux_core.services import KeyService

# A key must never sit in a shared cache.
_NO_STORE = {"Cache-Control": "no-store"}


class KeyRoute:
    def __init__(self, *, keys: KeyService) -> None:
        self._keys = keys

    async def __call__(self, request: Request) -> Response:
        key = await self._keys.deliver(
            request.path_params["hash"], request.headers.get("authorization")
        )
        return Response(key, headers={"Content-Type": "application/octet-stream", **_NO_STORE})

    async def clearkey(self, request: Request) -> Response:
        # The body is checked first: a malformed request is 400 whoever sends it, and
        # answering it costs no key lookup.
        kids = decode_license_request(parse_json_body(await request.body()))
        keys = await self._keys.deliver_clearkey(
            request.path_params["hash"], request.headers.get("authorization"), kids
        )
        return JSONResponse(license_response(keys), headers=_NO_STORE)
