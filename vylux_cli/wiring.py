"""Wiring: the core's services, the HTTP app's dependencies and the worker, built from ports.

``bootstrap`` picks the adapters from the configuration and hands them here; the test
worlds hand over their own (in-memory ones, or real ones on per-test key prefixes and
buckets), so every process and every test assembles the core through the same code.
Nothing here chooses an adapter or reads the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from attrs import field, frozen
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from vylux_adapters.http import HttpServices
from vylux_adapters.worker.pool import PoolSettings, WorkerPool
from vylux_adapters.worker.runtime import WorkerRuntime
from vylux_core.images.byte_lru import ByteLRU
from vylux_core.images.write_behind import WriteBehind
from vylux_core.imgproxy.service import ImgproxyService, ImgproxySettings
from vylux_core.imgproxy.url import DEFAULT_PATH_PREFIX
from vylux_core.jobs.job import JobType
from vylux_core.jobs.queue_routing import LARGE_POOL_WEIGHTS, MAIN_POOL_WEIGHTS
from vylux_core.ports.audio_toolchain import AudioToolchain
from vylux_core.ports.clock import Clock
from vylux_core.ports.entropy import Entropy
from vylux_core.ports.id_generator import IdGenerator
from vylux_core.ports.image_cache_index import ImageCacheIndex
from vylux_core.ports.image_inspector import ImageInspector
from vylux_core.ports.image_processor import ImageProcessor
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.key_store import KeyStore
from vylux_core.ports.media_toolchain import MediaToolchain
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.rate_limiter import RateLimiter
from vylux_core.ports.scratch_space import ScratchSpace
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.ports.webhook_outbox import WebhookOutbox
from vylux_core.ports.webhook_sender import WebhookSender
from vylux_core.security.key_ring import KeyEncryptionKey, KeyRing
from vylux_core.security.signing import UrlSigner
from vylux_core.services import (
    CachedEntry,
    DeliveryService,
    ImageLimits,
    ImageService,
    JobLimits,
    JobService,
    KeyService,
    ReadinessService,
)
from vylux_core.services.archived_tasks import ArchivedTasks
from vylux_core.services.finished_jobs import FinishedJobs
from vylux_core.services.readiness import FailureRecorder, Probe
from vylux_core.worker import JobHandler, JobRunner, LeaseRecoverer, Reconciler, WebhookDeliverer
from vylux_core.worker.attempt_outputs import RecordingObjectStore
from vylux_core.worker.webhook_deliverer import DeliveryOutcome
from vylux_core.workflows import build_workflows

Handlers = Mapping[JobType, JobHandler]

# How often expired leases are looked for; shorter leases are checked more often.
RECOVERY_INTERVAL_SECONDS = 5.0


@frozen(kw_only=True)
class Ports:
    """The driven adapters the server and the worker of one process share."""

    clock: Clock
    ids: IdGenerator
    entropy: Entropy
    jobs: JobStore
    keys: KeyStore
    cache_index: ImageCacheIndex
    queue: TaskQueue
    rate_limiter: RateLimiter
    source: ObjectStore
    media: ObjectStore
    images: ImageProcessor
    probes: Mapping[str, Probe]
    """The readiness checks by the name ``/readyz`` reports, in the order it lists them."""


@frozen(kw_only=True)
class CoreSettings:
    """What the core's services need besides ports: secrets, key-encryption keys, limits."""

    hmac_secret: str = field(repr=False)
    key_token_secret: str = field(repr=False)
    base_url: str
    keks: Sequence[KeyEncryptionKey] = field(repr=False)
    current_kek_version: str
    rendition_cache_bytes: int
    job_limits: JobLimits
    image_limits: ImageLimits


@frozen(kw_only=True)
class CoreServices:
    """The services the server and the worker of one process share."""

    signer: UrlSigner
    key_ring: KeyRing
    key_service: KeyService
    job_service: JobService
    archived_tasks: ArchivedTasks
    readiness: ReadinessService
    renditions: ByteLRU[CachedEntry]


def wire_core(
    ports: Ports, settings: CoreSettings, *, record_readiness_failure: FailureRecorder | None = None
) -> CoreServices:
    """The shared services on ``ports``; ``record_readiness_failure`` is told each failed
    readiness check (the metrics counter)."""
    renditions = ByteLRU[CachedEntry](max_bytes=settings.rendition_cache_bytes)
    ring = KeyRing(
        keks=settings.keks, current_version=settings.current_kek_version, entropy=ports.entropy
    )
    job_service = JobService(
        jobs=ports.jobs, queue=ports.queue, source=ports.source, media=ports.media,
        cache_index=ports.cache_index, keys=ports.keys, renditions=renditions,
        ids=ports.ids, limits=settings.job_limits,
    )  # fmt: skip
    return CoreServices(
        signer=UrlSigner(secret=settings.hmac_secret),
        key_ring=ring,
        key_service=KeyService(
            keys=ports.keys, ring=ring, token_secret=settings.key_token_secret,
            base_url=settings.base_url, clock=ports.clock,
        ),
        job_service=job_service,
        archived_tasks=ArchivedTasks(queue=ports.queue, jobs=ports.jobs, job_service=job_service),
        readiness=ReadinessService(probes=ports.probes, record_failure=record_readiness_failure),
        renditions=renditions,
    )  # fmt: skip


@frozen(kw_only=True)
class ImgproxyDialect:
    """imgproxy's URL dialect, served under ``prefix`` (``IMGPROXY_ENABLED``)."""

    settings: ImgproxySettings
    inspector: ImageInspector
    prefix: str


def http_services(
    ports: Ports,
    core: CoreServices,
    settings: CoreSettings,
    *,
    write_behind: WriteBehind,
    imgproxy: ImgproxyDialect | None = None,
    metrics_app: ASGIApp | None = None,
    extra_middleware: Sequence[Middleware] = (),
) -> HttpServices:
    """What the HTTP app drives; ``write_behind`` takes the rendition cache writes (the
    caller drains it when the app stops)."""
    images = ImageService(
        signer=core.signer, source=ports.source, media=ports.media, processor=ports.images,
        cache=core.renditions, cache_index=ports.cache_index, write_behind=write_behind,
        limits=settings.image_limits,
    )  # fmt: skip
    return HttpServices(
        images=images,
        imgproxy=(
            None
            if imgproxy is None
            else ImgproxyService(
                images=images, inspector=imgproxy.inspector, settings=imgproxy.settings
            )
        ),
        imgproxy_prefix=imgproxy.prefix if imgproxy is not None else DEFAULT_PATH_PREFIX,
        delivery=DeliveryService(signer=core.signer, source=ports.source, media=ports.media),
        keys=core.key_service,
        jobs=core.job_service,
        readiness=core.readiness,
        rate_limiter=ports.rate_limiter,
        queue=ports.queue,
        url_signer=core.signer,
        archived_tasks=core.archived_tasks,
        finished_jobs=FinishedJobs(jobs=ports.jobs, clock=ports.clock),
        metrics_app=metrics_app,
        extra_middleware=extra_middleware,
    )


@frozen(kw_only=True)
class WorkerPorts:
    """The driven adapters only the worker uses."""

    consumer: TaskConsumer
    outbox: WebhookOutbox
    toolchain: MediaToolchain
    audio: AudioToolchain
    scratch: ScratchSpace
    webhook_sender: WebhookSender


@frozen(kw_only=True)
class WorkerSettings:
    worker_id: str
    webhook_secret: str = field(repr=False)
    concurrency: int
    large_concurrency: int
    lease_seconds: float
    shutdown_timeout: float
    reconcile_grace: float
    reconcile_interval: float


def wire_worker(
    ports: Ports,
    worker_ports: WorkerPorts,
    core: CoreServices,
    settings: CoreSettings,
    worker_settings: WorkerSettings,
    *,
    decorate: Callable[[Handlers], Handlers] | None = None,
    record_webhook_outcome: Callable[[DeliveryOutcome], None] | None = None,
) -> WorkerRuntime:
    """The worker pools and background loops; ``decorate`` wraps the workflow handlers
    (telemetry) before the runner gets them."""
    handlers = build_workflows(
        # Recorded, so that a canceled attempt's uploads can be taken back.
        source=ports.source, media=RecordingObjectStore(ports.media), images=ports.images,
        toolchain=worker_ports.toolchain, audio=worker_ports.audio,
        scratch=worker_ports.scratch, keys=core.key_service,
        max_image_source_bytes=settings.image_limits.max_source_bytes,
    )  # fmt: skip
    consumer, clock = worker_ports.consumer, ports.clock
    runner = JobRunner(
        jobs=ports.jobs, consumer=consumer, clock=clock, outputs=ports.media,
        handlers=handlers if decorate is None else decorate(handlers),
    )  # fmt: skip
    lease = worker_settings.lease_seconds
    pools = [
        WorkerPool(
            consumer=consumer, jobs=ports.jobs, runner=runner, worker_id=worker_settings.worker_id,
            settings=PoolSettings(
                name=name, weights=weights, concurrency=concurrency,
                shutdown_timeout=worker_settings.shutdown_timeout,
                lease_seconds=lease, heartbeat_interval=lease / 3,
            ),
        )
        for name, weights, concurrency in (
            ("main", MAIN_POOL_WEIGHTS, worker_settings.concurrency),
            ("large", LARGE_POOL_WEIGHTS, worker_settings.large_concurrency),
        )
    ]  # fmt: skip
    loops = [
        LeaseRecoverer(
            consumer=consumer, jobs=ports.jobs, clock=clock,
            interval=min(RECOVERY_INTERVAL_SECONDS, lease / 3),
        ).run,
        Reconciler(
            jobs=ports.jobs, queue=ports.queue, clock=clock,
            grace=worker_settings.reconcile_grace, interval=worker_settings.reconcile_interval,
        ).run,
        WebhookDeliverer(
            outbox=worker_ports.outbox, clock=clock, secret=worker_settings.webhook_secret,
            sender=worker_ports.webhook_sender, record_outcome=record_webhook_outcome,
        ).run,
    ]  # fmt: skip
    return WorkerRuntime(pools=pools, loops=loops)
