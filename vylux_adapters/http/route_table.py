"""Every route of spec §3, each wrapped in exactly the middleware it needs."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from starlette.types import ASGIApp

from vylux_adapters.http.dashboard import DashboardRoutes
from vylux_adapters.http.errors import Family
from vylux_adapters.http.middleware.auth import ApiKeyMiddleware
from vylux_adapters.http.middleware.body_limit import BodyLimitMiddleware
from vylux_adapters.http.middleware.cache_headers import CacheHeadersMiddleware
from vylux_adapters.http.middleware.cors import CorsMiddleware, CorsPolicy, CorsPreflight
from vylux_adapters.http.middleware.rate_limit import (
    RateLimitMiddleware,
    RateRule,
    api_key_identity,
    key_token_identity,
    peer_identity,
)
from vylux_adapters.http.openapi import openapi_document
from vylux_adapters.http.routes.delivery import DeliveryRoutes
from vylux_adapters.http.routes.endpoint import Endpoint, Handler
from vylux_adapters.http.routes.images import ImageRoute
from vylux_adapters.http.routes.imgproxy import ImgproxyInfoRoute, ImgproxyRoute
from vylux_adapters.http.routes.jobs import JobRoutes
from vylux_adapters.http.routes.keys import KeyRoute
from vylux_adapters.http.routes.system import (
    OpenApiRoute,
    ReadinessRoute,
    healthz,
    no_metrics,
)
from vylux_adapters.http.routing import Route
from vylux_adapters.http.services import HttpServices
from vylux_adapters.http.settings import HttpSettings


def build_routes(services: HttpServices, settings: HttpSettings) -> list[Route]:
    layers = _Layers(services, settings)
    delivery = DeliveryRoutes(delivery=services.delivery)
    jobs = JobRoutes(
        jobs=services.jobs,
        allow_private_callbacks=settings.allow_private_callbacks,
        resolve_timeout=settings.callback_resolve_timeout,
    )
    jobs_limit = [
        RateRule(limiter="jobs", limit=settings.jobs_rate_limit, identity=api_key_identity)
    ]
    proxies = settings.trusted_proxy_count
    # Per address first, so a stream of made-up tokens cannot get around it (§13.6).
    key_limits = [
        RateRule(
            limiter="key_ip", limit=settings.key_ip_rate_limit, identity=peer_identity(proxies)
        ),
        RateRule(
            limiter="key", limit=settings.key_rate_limit, identity=key_token_identity(proxies)
        ),
    ]
    keys = KeyRoute(keys=services.keys)
    key_cors = CorsPolicy(
        allowed_origins=settings.cors_allowed_origins,
        allow_methods=("GET", "POST"),
        allow_headers=("Authorization", "Content-Type"),
    )
    stream_cors = CorsPolicy(
        allowed_origins=settings.stream_cors_allowed_origins,
        allow_methods=("GET", "HEAD"),
        allow_headers=("Authorization", "Content-Type", "Range"),
        expose_headers=("Accept-Ranges", "Content-Length", "Content-Range"),
    )
    metrics_app = services.metrics_app or layers.plain(no_metrics, Family.SYSTEM)
    imgproxy_prefix = services.imgproxy_prefix if services.imgproxy is not None else None
    document = openapi_document(imgproxy_prefix=imgproxy_prefix)
    routes = [
        Route(template="/healthz", methods={"GET": layers.plain(healthz, Family.SYSTEM)}),
        Route(
            template="/readyz",
            methods={
                "GET": layers.plain(ReadinessRoute(readiness=services.readiness), Family.SYSTEM)
            },
        ),
        Route(template="/metrics", methods={"GET": metrics_app}),
        Route(
            template="/openapi.json",
            methods={"GET": layers.plain(OpenApiRoute(document=document), Family.SYSTEM)},
        ),
        Route(
            template="/img/:sig/:opts/*",
            methods={"GET": layers.cached(ImageRoute(images=services.images), Family.IMAGE)},
            head=True,
        ),
        *_imgproxy_routes(services, layers),
        Route(
            template="/original/:sig/*",
            methods={"GET": layers.cached(delivery.original, Family.OBJECT)},
            head=True,
        ),
        Route(
            template="/thumb/:sig/*",
            methods={"GET": layers.cached(delivery.thumb, Family.OBJECT)},
            head=True,
        ),
        _with_cors(
            Route(
                template="/stream/:hash/*",
                methods={"GET": layers.cached(delivery.stream, Family.STREAM)},
                head=True,
            ),
            stream_cors,
        ),
        _with_cors(
            Route(
                template="/api/key/:hash",
                methods={"GET": layers.limited(keys, Family.KEY, key_limits)},
            ),
            key_cors,
        ),
        # The same limiter buckets as the raw key: a licence is the same key in JSON.
        _with_cors(
            Route(
                template="/api/key/:hash/clearkey",
                methods={"POST": layers.limited(keys.clearkey, Family.KEY, key_limits)},
            ),
            key_cors,
        ),
        Route(
            template="/api/jobs",
            methods={
                "POST": layers.api(jobs.create, jobs_limit),
                "GET": layers.api(jobs.list_jobs),
            },
        ),
        Route(template="/api/jobs/:id", methods={"GET": layers.api(jobs.get)}),
        Route(
            template="/api/jobs/:id/retry",
            methods={"POST": layers.api(jobs.retry, jobs_limit)},
        ),
        Route(template="/api/jobs/:id/cancel", methods={"POST": layers.api(jobs.cancel)}),
        Route(template="/api/media/:hash", methods={"DELETE": layers.api(jobs.purge)}),
    ]
    if settings.dashboard_enabled:
        routes += dashboard_routes(layers, services)
    return routes


def dashboard_routes(layers: _Layers, services: HttpServices) -> list[Route]:
    """The page and its assets need no key: they hold no data. The data comes from the
    ``/api`` routes above and the dashboard's own queue view, which check the key the
    page's script sends."""
    dashboard = DashboardRoutes(
        queue=services.queue,
        archived_tasks=services.archived_tasks,
        finished_jobs=services.finished_jobs,
        jobs=services.jobs,
        signer=services.url_signer,
    )
    return [
        Route(template="/dashboard/api/media/:id", methods={"GET": layers.api(dashboard.media)}),
        Route(template="/dashboard/api/queues", methods={"GET": layers.api(dashboard.queues)}),
        Route(template="/dashboard/api/archived", methods={"GET": layers.api(dashboard.archived)}),
        Route(
            template="/dashboard/api/archived/:id/requeue",
            methods={"POST": layers.api(dashboard.requeue)},
        ),
        Route(
            template="/dashboard/api/archived/:queue/:id",
            methods={"DELETE": layers.api(dashboard.delete_archived)},
        ),
        Route(
            template="/dashboard",
            methods={"GET": layers.plain(dashboard.page, Family.SYSTEM)},
            head=True,
        ),
        Route(
            template="/dashboard/static/:name",
            methods={"GET": layers.plain(dashboard.asset, Family.SYSTEM)},
            head=True,
        ),
    ]


def _imgproxy_routes(services: HttpServices, layers: _Layers) -> list[Route]:
    if services.imgproxy is None:
        return []
    prefix = services.imgproxy_prefix
    imgproxy = services.imgproxy

    def info(info_signed: bool) -> ASGIApp:
        route = ImgproxyInfoRoute(imgproxy=imgproxy, info_signed=info_signed)
        return layers.cached(route, Family.IMAGE)

    app = layers.cached(ImgproxyRoute(imgproxy=imgproxy), Family.IMAGE)
    # In this order: the info templates are the more specific ones.
    return [
        Route(template=f"{prefix}/info/:sig/*", methods={"GET": info(False)}, head=True),
        Route(template=f"{prefix}/:sig/info/*", methods={"GET": info(True)}, head=True),
        Route(template=f"{prefix}/:sig/*", methods={"GET": app}, head=True),
    ]


def _with_cors(route: Route, policy: CorsPolicy) -> Route:
    """``route`` with CORS on every method and its own preflight; as is without origins."""
    if not policy.enabled:
        return route
    methods: dict[str, ASGIApp] = {
        method: CorsMiddleware(app, policy=policy) for method, app in route.methods.items()
    }
    methods["OPTIONS"] = CorsPreflight(policy=policy, allow=route.allowed)
    return attrs.evolve(route, methods=methods)


class _Layers:
    """Composes route-level middleware: body cap outermost, then API key, then rate
    limits, then cache headers, then the handler (spec §2.1 "route-level")."""

    def __init__(self, services: HttpServices, settings: HttpSettings) -> None:
        self._services = services
        self._settings = settings

    def plain(self, handler: Handler, family: Family) -> ASGIApp:
        return self._capped(Endpoint(handler, family=family), family)

    def cached(self, handler: Handler, family: Family) -> ASGIApp:
        return self._capped(CacheHeadersMiddleware(Endpoint(handler, family=family)), family)

    def limited(self, handler: Handler, family: Family, rules: Sequence[RateRule]) -> ASGIApp:
        return self._capped(self._rate_limited(Endpoint(handler, family=family), rules), family)

    def api(self, handler: Handler, rules: Sequence[RateRule] = ()) -> ASGIApp:
        app = self._rate_limited(Endpoint(handler, family=Family.JOBS), rules)
        return self._capped(ApiKeyMiddleware(app, api_key=self._settings.api_key), Family.JOBS)

    def _rate_limited(self, app: ASGIApp, rules: Sequence[RateRule]) -> ASGIApp:
        if not rules:
            return app
        return RateLimitMiddleware(app, limiter=self._services.rate_limiter, rules=rules)

    def _capped(self, app: ASGIApp, family: Family) -> ASGIApp:
        return BodyLimitMiddleware(
            app,
            max_bytes=self._settings.max_body_bytes,
            family=family,
            read_timeout=self._settings.body_read_timeout,
        )
