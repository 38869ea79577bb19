"""CORS for the route groups browsers call from another origin: ``/api/key/*``, ``/stream/*``.

A pure-ASGI layer rather than Starlette's ``CORSMiddleware``: every route answers
``OPTIONS`` itself (with ``Allow``), so a preflight needs its own app per route, and a
disallowed origin must get no CORS header at all (Starlette answers it 400 with
``Access-Control-Allow-Methods``/``-Headers`` still set). The browser does the rest of
the checking: it compares the requested method and headers with the lists it is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ANY_ORIGIN = "*"
# Browsers cache a preflight this long (Chromium caps it at 2 h).
PREFLIGHT_MAX_AGE_SECONDS = 600

_ORIGIN = b"origin"
_REQUEST_METHOD = b"access-control-request-method"
_ALLOW_ORIGIN = b"access-control-allow-origin"
_EXPOSE_HEADERS = b"access-control-expose-headers"
_VARY = b"vary"


@frozen(kw_only=True)
class CorsPolicy:
    """Which origins may read a route group's answers, and what their requests may carry.

    ``allowed_origins`` is empty (no CORS), ``("*",)`` (any origin, answered ``*``: for
    public, cacheable answers), or exact origins (``https://app.example.com``, compared
    with the ``Origin`` header as browsers serialise it: lower case, no path).
    """

    allowed_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.allowed_origins)

    @property
    def any_origin(self) -> bool:
        return ANY_ORIGIN in self.allowed_origins

    def allowed_origin(self, origin: bytes | None) -> bytes | None:
        """The ``Access-Control-Allow-Origin`` value for a request from ``origin``, if any."""
        if self.any_origin:
            return b"*"
        if origin is not None and origin.decode("latin-1") in self.allowed_origins:
            return origin
        return None


class CorsMiddleware:
    """Adds ``Access-Control-Allow-Origin`` (and the exposed headers) to every answer of
    the wrapped app, errors included, so a player can read a 403 or a 404 instead of
    seeing a network error. With exact origins the answer also says ``Vary: Origin``,
    so a cache never hands one origin's answer to another."""

    def __init__(self, app: ASGIApp, *, policy: CorsPolicy) -> None:
        self._app = app
        self._policy = policy
        self._expose = ", ".join(policy.expose_headers).encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = self._policy.allowed_origin(_header(scope, _ORIGIN))
        added: list[tuple[bytes, bytes]] = []
        if allowed is not None:
            added.append((_ALLOW_ORIGIN, allowed))
            if self._expose:
                added.append((_EXPOSE_HEADERS, self._expose))
        replaced = {name for name, _ in added}
        vary = not self._policy.any_origin

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [pair for pair in message.get("headers", ()) if pair[0] not in replaced]
                headers.extend(added)
                if vary:
                    _vary_on_origin(headers)
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, send_with_cors)


class CorsPreflight:
    """The ``OPTIONS`` answer of a route: ``204`` with ``Allow`` as the route gives it,
    plus the CORS grant when it is a preflight from an allowed origin."""

    def __init__(self, *, policy: CorsPolicy, allow: Sequence[str]) -> None:
        self._policy = policy
        self._allow = ", ".join(("OPTIONS", *allow))
        self._grant = {
            "Access-Control-Allow-Methods": ", ".join(policy.allow_methods),
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
        }
        if policy.allow_headers:
            self._grant["Access-Control-Allow-Headers"] = ", ".join(policy.allow_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {"Allow": self._allow}
        allowed = self._policy.allowed_origin(_header(scope, _ORIGIN))
        is_preflight = _header(scope, _REQUEST_METHOD) is not None
        if allowed is not None and is_preflight and _header(scope, _ORIGIN) is not None:
            headers["Access-Control-Allow-Origin"] = allowed.decode("latin-1")
            headers.update(self._grant)
        if not self._policy.any_origin:
            headers["Vary"] = "Origin"
        await Response(status_code=204, headers=headers)(scope, receive, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    # ASGI servers hand request header names over lower-cased.
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _vary_on_origin(headers: list[tuple[bytes, bytes]]) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == _VARY:
            headers[index] = (name, value + b", Origin")
            return
    headers.append((_VARY, b"Origin"))
