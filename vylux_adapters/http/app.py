"""The ASGI application: a Starlette app serving every route of the HTTP API.

Starlette's ``Router`` matches the :class:`~vylux_adapters.http.routing.RawPathRoute`
routes of :func:`~vylux_adapters.http.route_table.build_routes` in order; each route
runs its own chain (body cap, API key, rate limits, cache headers). Around the router,
as pure ASGI middleware: ``services.extra_middleware`` (tracing, HTTP metrics, access
log), outermost first, then :class:`RequestIdMiddleware`, the innermost: the request id
and the recovery of unhandled errors. Starlette's own outermost layer, the last-resort
500, stays; its exception layer does not (:class:`ServiceApp`).
"""

from __future__ import annotations

import logging
import random

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.errors import internal_error
from vylux_adapters.http.handoff import set_request_id
from vylux_adapters.http.route_table import build_routes
from vylux_adapters.http.routing import answer_unmatched
from vylux_adapters.http.services import HttpServices
from vylux_adapters.http.settings import HttpSettings

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"


class ServiceApp(Starlette):
    """A Starlette application without Starlette's exception layer.

    That layer turns ``HTTPException`` and the app's exception handlers into answers;
    here every route answers its own errors from its family's table
    (:mod:`~vylux_adapters.http.routes.endpoint`), nothing raises ``HTTPException`` and
    no handler is registered, so it had nothing to do, and it cost about a tenth of
    what the app spends on a cached rendition: a connection object and two wrapped
    functions per request.
    """

    def build_middleware_stack(self) -> ASGIApp:
        layers = [Middleware(ServerErrorMiddleware, debug=self.debug), *self.user_middleware]
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(layers):
            app = cls(app, *args, **kwargs)
        return app


def create_app(*, services: HttpServices, settings: HttpSettings) -> Starlette:
    """Build the app; no I/O happens here.

    ``services.extra_middleware`` wraps the request id layer, first item outermost, so
    those layers see the request id and the matched route once the response starts.
    """
    app = ServiceApp(
        routes=build_routes(services, settings),
        middleware=[*services.extra_middleware, Middleware(RequestIdMiddleware)],
    )
    # An unknown path is a JSON 404, never a redirect to the same path with or without
    # its trailing slash.
    app.router.redirect_slashes = False
    app.router.default = answer_unmatched
    return app


def new_request_id(rng: random.Random) -> str:
    """32 random alphanumeric characters (lower-case hex), as the spec asks.

    Request ids correlate log lines; they guard nothing, so a per-process PRNG seeded
    from the OS is enough, and no system call is made per request.
    """
    # The fastest way to 32 hex digits here (format() and % are slower).
    return rng.getrandbits(128).to_bytes(16, "big").hex()


class RequestIdMiddleware:
    """Every response carries ``X-Request-Id``: the incoming non-empty one, else a new
    one, which is also handed to the error logs (:mod:`~vylux_adapters.http.handoff`).

    An exception no route handled becomes a logged JSON 500 that still carries the
    request id. Once a response has started nothing can be answered any more: the
    error is re-raised and the server drops the connection.
    """

    def __init__(self, app: ASGIApp, rng: random.Random | None = None) -> None:
        self._app = app
        self._rng = rng or random.Random()  # seeded from os.urandom

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or new_request_id(self._rng)
        set_request_id(scope, request_id)
        header = (REQUEST_ID_HEADER, request_id.encode("latin-1"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # Appended, not replaced: no layer inside sets X-Request-Id.
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        except Exception as error:
            logger.error(
                "unhandled error serving %s %s (request id %s)",
                scope.get("method"),
                scope.get("path"),
                request_id,
                exc_info=error,
            )
            if started:
                raise
            await internal_error(scope)(scope, receive, send_with_id)


def _incoming_request_id(scope: Scope) -> str | None:
    # ASGI servers hand request header names over lower-cased.
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and value:
            return str(value.decode("latin-1"))
    return None
