"""HttpServices: the core services and ports the HTTP adapter drives."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from vylux_core.imgproxy.service import ImgproxyService
from vylux_core.imgproxy.url import DEFAULT_PATH_PREFIX
from vylux_core.ports.rate_limiter import RateLimiter
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.security.signing import UrlSigner
from vylux_core.services import (
    DeliveryService,
    ImageService,
    JobService,
    KeyService,
    ReadinessService,
)
from vylux_core.services.archived_tasks import ArchivedTasks
from vylux_core.services.finished_jobs import FinishedJobs


@frozen(kw_only=True)
class HttpServices:
    """Built by bootstrap; each route gets exactly the service it needs from here.

    ``metrics_app`` serves ``GET /metrics`` (404 when None). ``extra_middleware``
    (tracing, HTTP metrics) wraps everything else, first item outermost; it can read
    what :mod:`vylux_adapters.http.handoff` hands over once the response starts.
    """

    images: ImageService
    delivery: DeliveryService
    keys: KeyService
    jobs: JobService
    readiness: ReadinessService
    rate_limiter: RateLimiter
    metrics_app: ASGIApp | None = None
    imgproxy: ImgproxyService | None = None
    """imgproxy's URL dialect under ``imgproxy_prefix``; None: not served."""
    imgproxy_prefix: str = DEFAULT_PATH_PREFIX
    # Read by the dashboard's queue view only; without it the view shows no queues.
    queue: TaskQueue | None = None
    archived_tasks: ArchivedTasks | None = None
    # The dashboard's throughput figure; without it the queue view shows none.
    finished_jobs: FinishedJobs | None = None
    # Signs the dashboard media view's /thumb links.
    url_signer: UrlSigner | None = None
    extra_middleware: Sequence[Middleware] = ()
