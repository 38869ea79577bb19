"""Every route of the HTTP API, each wrapped in exactly the middleware it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
from attrs import frozen
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
from vylux_adapters.http.routes.endpoint import Endpoint, Handler, ImageEndpoint, ImageHandler
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
from vylux_adapters.http.routing import RawPathRoute, allowed_methods
from vylux_adapters.http.services import HttpServices
from vylux_adapters.http.settings import HttpSettings


@frozen(kw_only=True)
class _Spec:
    """A route before the table is complete: how far a final ``:name`` reaches depends
    on the other templates (see :mod:`~vylux_adapters.http.routing`)."""

    template: str
    methods: Mapping[str, ASGIApp]
    head: bool = False


def build_routes(services: HttpServices, settings: HttpSettings) -> list[RawPathRoute]:
    """The routes in matching order; the first whose template matches answers."""
    specs = _specs(services, settings)
    templates = [spec.template for spec in specs]
    return [
        RawPathRoute(spec.template, spec.methods, head=spec.head, templates=templates)
        for spec in specs
    ]


def _specs(services: HttpServices, settings: HttpSettings) -> list[_Spec]:
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
    # Per address first, so a stream of made-up tokens cannot get around it (D37).
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
        # Renditions first: they are most of the traffic and the router asks the
        # routes in order. The configuration refuses an imgproxy prefix whose routes
        # would take paths of the ones below (contract_templates).
        _Spec(
            template="/img/:sig/:opts/*",
            methods={"GET": layers.image(ImageRoute(images=services.images))},
            head=True,
        ),
        *_imgproxy_routes(services, layers),
        _Spec(template="/healthz", methods={"GET": layers.plain(healthz, Family.SYSTEM)}),
        _Spec(
            template="/readyz",
            methods={
                "GET": layers.plain(ReadinessRoute(readiness=services.readiness), Family.SYSTEM)
            },
        ),
        _Spec(template="/metrics", methods={"GET": metrics_app}),
        _Spec(
            template="/openapi.json",
            methods={"GET": layers.plain(OpenApiRoute(document=document), Family.SYSTEM)},
        ),
        _Spec(
            template="/original/:sig/*",
            methods={"GET": layers.cached(delivery.original, Family.OBJECT)},
            head=True,
        ),
        _Spec(
            template="/thumb/:sig/*",
            methods={"GET": layers.cached(delivery.thumb, Family.OBJECT)},
            head=True,
        ),
        _with_cors(
            _Spec(
                template="/stream/:hash/*",
                methods={"GET": layers.cached(delivery.stream, Family.STREAM)},
                head=True,
            ),
            stream_cors,
        ),
        _with_cors(
            _Spec(
                template="/api/key/:hash",
                methods={"GET": layers.limited(keys, Family.KEY, key_limits)},
            ),
            key_cors,
        ),
        # The same limiter buckets as the raw key: a licence is the same key in JSON.
        _with_cors(
            _Spec(
                template="/api/key/:hash/clearkey",
                methods={"POST": layers.limited(keys.clearkey, Family.KEY, key_limits)},
            ),
            key_cors,
        ),
        _Spec(
            template="/api/jobs",
            methods={
                "POST": layers.api(jobs.create, jobs_limit),
                "GET": layers.api(jobs.list_jobs),
            },
        ),
        _Spec(template="/api/jobs/:id", methods={"GET": layers.api(jobs.get)}),
        _Spec(
            template="/api/jobs/:id/retry",
            methods={"POST": layers.api(jobs.retry, jobs_limit)},
        ),
        _Spec(template="/api/jobs/:id/cancel", methods={"POST": layers.api(jobs.cancel)}),
        _Spec(template="/api/media/:hash", methods={"DELETE": layers.api(jobs.purge)}),
    ]
    if settings.dashboard_enabled:
        routes += dashboard_routes(layers, services)
    return routes


def dashboard_routes(layers: _Layers, services: HttpServices) -> list[_Spec]:
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
        _Spec(template="/dashboard/api/media/:id", methods={"GET": layers.api(dashboard.media)}),
        _Spec(template="/dashboard/api/queues", methods={"GET": layers.api(dashboard.queues)}),
        _Spec(template="/dashboard/api/archived", methods={"GET": layers.api(dashboard.archived)}),
        _Spec(
            template="/dashboard/api/archived/:id/requeue",
            methods={"POST": layers.api(dashboard.requeue)},
        ),
        _Spec(
            template="/dashboard/api/archived/:queue/:id",
            methods={"DELETE": layers.api(dashboard.delete_archived)},
        ),
        _Spec(
            template="/dashboard",
            methods={"GET": layers.plain(dashboard.page, Family.SYSTEM)},
            head=True,
        ),
        _Spec(
            template="/dashboard/static/:name",
            methods={"GET": layers.plain(dashboard.asset, Family.SYSTEM)},
            head=True,
        ),
    ]


def _imgproxy_routes(services: HttpServices, layers: _Layers) -> list[_Spec]:
    if services.imgproxy is None:
        return []
    prefix = services.imgproxy_prefix
    imgproxy = services.imgproxy

    info = layers.image(ImgproxyInfoRoute(imgproxy=imgproxy))
    app = layers.image(ImgproxyRoute(imgproxy=imgproxy))
    # imgproxy Pro's info form first: the rendition template matches its paths too.
    # Vylux's own info form, ``{prefix}/{signature}/info/…``, is a signed path like
    # any other and is answered by the rendition route, so renditions are matched
    # after two literal prefix checks and no regex that fails.
    return [
        _Spec(template=f"{prefix}/info/:sig/*", methods={"GET": info}, head=True),
        _Spec(template=f"{prefix}/:sig/*", methods={"GET": app}, head=True),
    ]


def _with_cors(route: _Spec, policy: CorsPolicy) -> _Spec:
    """``route`` with CORS on every method and its own preflight; as is without origins."""
    if not policy.enabled:
        return route
    methods: dict[str, ASGIApp] = {
        method: CorsMiddleware(app, policy=policy) for method, app in route.methods.items()
    }
    methods["OPTIONS"] = CorsPreflight(
        policy=policy, allow=allowed_methods(route.methods, head=route.head)
    )
    return attrs.evolve(route, methods=methods)


class _Layers:
    """Composes route-level middleware: body cap outermost, then API key, then rate
    limits, then cache headers, then the handler."""

    def __init__(self, services: HttpServices, settings: HttpSettings) -> None:
        self._services = services
        self._settings = settings

    def plain(self, handler: Handler, family: Family) -> ASGIApp:
        return self._capped(Endpoint(handler, family=family), family)

    def cached(self, handler: Handler, family: Family) -> ASGIApp:
        return self._capped(CacheHeadersMiddleware(Endpoint(handler, family=family)), family)

    def image(self, handler: ImageHandler) -> ASGIApp:
        # The image routes put Cache-Control on their successes themselves
        # (IMMUTABLE_HEADER): a layer per request for one constant header was about
        # a tenth of what the app spends on a cached rendition.
        return self._capped(ImageEndpoint(handler), Family.IMAGE)

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
