"""The Starlette application: routes of spec §3 behind the cross-cutting middleware."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from vylux_adapters.http.middleware.recovery import RecoveryMiddleware
from vylux_adapters.http.middleware.request_id import RequestIdMiddleware
from vylux_adapters.http.route_table import build_routes
from vylux_adapters.http.routing import RawPathRouter, RawPathRoutes
from vylux_adapters.http.services import HttpServices
from vylux_adapters.http.settings import HttpSettings


def create_app(*, services: HttpServices, settings: HttpSettings) -> Starlette:
    """Build the app; no I/O happens here.

    Middleware order, outermost first (spec §2.1): ``services.extra_middleware``
    (tracing, HTTP metrics), request id, recovery (so a 500 still has its request
    id), then the raw-path router, which runs each route's own chain (body cap, API
    key, rate limits, cache headers).
    """
    router = RawPathRouter(routes=build_routes(services, settings))
    middleware = [
        *services.extra_middleware,
        Middleware(RequestIdMiddleware),
        Middleware(RecoveryMiddleware),
    ]
    return Starlette(routes=[RawPathRoutes(router)], middleware=middleware)
