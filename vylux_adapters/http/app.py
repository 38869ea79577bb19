"""The ASGI application: routes of spec §3 behind the request-wide steps of §2.1.

One object does the steps every request shares — the request id (§2.1 step 2) and
the recovery of unhandled errors (step 1) — and then hands the request to the
raw-path router, which runs each route's own chain (body cap, API key, rate limits,
cache headers). They used to be a Starlette application with two middleware
classes; Starlette's router, exception middlewares and the extra send wrappers cost
more per request than serving a cached rendition, and nothing here used them: the
router is our own and errors are answered from our own tables.
"""

from __future__ import annotations

import logging
import random

from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.errors import internal_error
from vylux_adapters.http.lifespan import answer_lifespan
from vylux_adapters.http.response_start import shape_response
from vylux_adapters.http.route_table import build_routes
from vylux_adapters.http.routing import RawPathRouter, Route
from vylux_adapters.http.scope_keys import REQUEST_ID
from vylux_adapters.http.services import HttpServices
from vylux_adapters.http.settings import HttpSettings

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"


def create_app(*, services: HttpServices, settings: HttpSettings) -> ASGIApp:
    """Build the app; no I/O happens here.

    ``services.extra_middleware`` (tracing, HTTP metrics) wraps it, first item
    outermost, so those layers see the request id's and the router's scope keys.
    """
    app: ASGIApp = VyluxApp(RawPathRouter(routes=build_routes(services, settings)))
    for middleware in reversed(services.extra_middleware):
        app = middleware.cls(app, *middleware.args, **middleware.kwargs)
    return app


def new_request_id(rng: random.Random) -> str:
    """32 random alphanumeric characters (lower-case hex), as the spec asks.

    Request ids correlate log lines; they guard nothing, so a per-process PRNG seeded
    from the OS is enough. The OS generator cost a system call per id, and drawing
    the 32 characters one by one about 8 µs: both large shares of serving a cached
    rendition.
    """
    return "%032x" % rng.getrandbits(128)  # noqa: UP031 (twice as fast as format())


class VyluxApp:
    """Every response carries ``X-Request-Id``: the incoming non-empty one, else a new
    one, which is also left in ``scope["vylux.request_id"]`` for error logs.

    An exception no route handled becomes a logged JSON 500 that still carries the
    request id. Once a response has started nothing can be answered any more: the
    error is re-raised and the server drops the connection.
    """

    def __init__(self, router: RawPathRouter, rng: random.Random | None = None) -> None:
        self._router = router
        self._rng = rng or random.Random()  # seeded from os.urandom

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._router.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await answer_lifespan(receive, send)
            elif kind == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        request_id = _incoming_request_id(scope) or new_request_id(self._rng)
        scope[REQUEST_ID] = request_id
        response, send = shape_response(scope, send)
        response.set_headers[REQUEST_ID_HEADER] = request_id.encode("latin-1")
        try:
            await self._router(scope, receive, send)
        except Exception as error:
            logger.error(
                "unhandled error serving %s %s (request id %s)",
                scope.get("method"),
                scope.get("path"),
                request_id,
                exc_info=error,
            )
            if response.started:
                raise
            await internal_error(scope)(scope, receive, send)


def _incoming_request_id(scope: Scope) -> str | None:
    # ASGI servers hand request header names over lower-cased.
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and value:
            return str(value.decode("latin-1"))
    return None
