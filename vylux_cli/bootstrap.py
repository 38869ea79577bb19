"""The composition root: the only module that chooses and builds adapters.

It picks each adapter from the configuration and hands them to :mod:`vylux_cli.wiring`,
which builds the core's services on them (the test worlds call the same wiring with
adapters of their own).
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

from attrs import frozen
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from vylux_adapters.http import HttpSettings, create_app
from vylux_adapters.http.metrics_endpoint import MetricsApp, WorkerListenerApp, metrics_app
from vylux_adapters.http.middleware.access_log import AccessLogMiddleware
from vylux_adapters.http.middleware.metrics import HttpMetricsMiddleware
from vylux_adapters.http.middleware.tracing import TracingMiddleware
from vylux_adapters.local import LocalDirObjectStore
from vylux_adapters.media import FfmpegAudioToolchain, FfmpegMediaToolchain, MediaBinaries
from vylux_adapters.media.capabilities import FfmpegIncomplete, verify_ffmpeg
from vylux_adapters.memory import MemoryRateLimiter
from vylux_adapters.redis import RedisRateLimiter, RedisTaskQueue, create_redis_client
from vylux_adapters.s3 import S3BucketSettings, S3ObjectStore
from vylux_adapters.scratch import LocalScratchSpace
from vylux_adapters.sql import (
    SqlImageCacheIndex,
    SqlJobStore,
    SqlKeyStore,
    SqlTaskQueue,
    create_engine,
    sqlite_url,
    upgrade_async,
)
from vylux_adapters.sql.migrate import schema_installed
from vylux_adapters.sql.webhook_outbox import SqlWebhookOutbox
from vylux_adapters.system import OsEntropy, SystemClock, Uuid4IdGenerator
from vylux_adapters.telemetry import (
    InstrumentedObjectStore,
    Metrics,
    build_registry,
    build_tracer_provider,
)
from vylux_adapters.telemetry.instrumented_handler import instrument_handlers
from vylux_adapters.vips import PyvipsImageProcessor
from vylux_adapters.webhooks import HttpxWebhookSender
from vylux_adapters.worker.runtime import WorkerRuntime
from vylux_cli.config import Config, ConfigError, S3Settings
from vylux_cli.runtime_config import DATABASE_FILE, MEDIA_DIR, SOURCE_DIR
from vylux_cli.runtime_config import load_runtime_config as load_runtime_config
from vylux_cli.wiring import (
    CoreServices,
    CoreSettings,
    ImgproxyDialect,
    Ports,
    WorkerPorts,
    WorkerSettings,
    http_services,
    wire_core,
    wire_worker,
)
from vylux_core.errors import VyluxError
from vylux_core.images.byte_lru import ByteLRU
from vylux_core.images.result_budget import ResultBudget
from vylux_core.images.write_behind import WriteBehind
from vylux_core.imgproxy.service import ImgproxySettings
from vylux_core.imgproxy.url import ImgproxySigner
from vylux_core.ports.image_inspector import ImageInspector
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.rate_limiter import RateLimiter
from vylux_core.security.key_ring import parse_kek_config
from vylux_core.services import (
    CachedEntry,
    ImageLimits,
    JobLimits,
    JobService,
    KeyService,
)

logger = logging.getLogger(__name__)


@frozen(kw_only=True)
class Profile:
    """Which backend serves each role; decided from the configuration alone."""

    database_url: str
    queue: str  # "redis" | "sql"
    rate_limiter: str  # "redis" | "memory"
    source_store: S3Settings | Path
    media_store: S3Settings | Path

    def describe(self) -> str:
        database = "sqlite" if self.database_url.startswith("sqlite") else "postgresql"
        stores = [
            "s3" if isinstance(store, S3Settings) else f"local:{store}"
            for store in (self.source_store, self.media_store)
        ]
        return (
            f"database={database} queue={self.queue} rate_limiter={self.rate_limiter} "
            f"source={stores[0]} media={stores[1]}"
        )


def choose_profile(config: Config) -> Profile:
    """Embedded defaults for whatever is not configured; each role independently."""
    data_dir = config.data_dir.resolve()
    return Profile(
        database_url=config.database_url or sqlite_url(data_dir / DATABASE_FILE),
        queue="redis" if config.redis_url else "sql",
        rate_limiter="redis" if config.redis_url else "memory",
        source_store=config.source_s3 or data_dir / SOURCE_DIR,
        media_store=config.media_s3 or data_dir / MEDIA_DIR,
    )


def prepare_data_dir(profile: Profile) -> None:
    """Create the local directories the embedded roles use."""
    for store in (profile.source_store, profile.media_store):
        if isinstance(store, Path):
            store.mkdir(parents=True, exist_ok=True)
    if profile.database_url.startswith("sqlite"):
        Path(profile.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )


async def migrate(profile: Profile) -> None:
    prepare_data_dir(profile)
    await upgrade_async(profile.database_url)


@frozen(kw_only=True)
class Runtime:
    """Everything the server and the worker share, opened once per process.

    ``ports`` and ``core`` are what :mod:`vylux_cli.wiring` works with; the adapters
    are also kept by their own type for the commands that reach past the ports
    (queue inspection, the outbox depth, key rewrapping).
    """

    config: Config
    profile: Profile
    metrics: Metrics
    tracer_provider: Any
    ports: Ports
    core_settings: CoreSettings
    core: CoreServices
    jobs: SqlJobStore
    keys: SqlKeyStore
    cache_index: SqlImageCacheIndex
    outbox: SqlWebhookOutbox
    queue: RedisTaskQueue | SqlTaskQueue
    # One libvips pool per process: `serve` with its in-process worker shares it
    # instead of sizing two pools to the core count.
    images: PyvipsImageProcessor

    @property
    def source(self) -> ObjectStore:
        return self.ports.source

    @property
    def media(self) -> ObjectStore:
        return self.ports.media

    @property
    def key_service(self) -> KeyService:
        return self.core.key_service

    @property
    def job_service(self) -> JobService:
        return self.core.job_service

    @property
    def renditions(self) -> ByteLRU[CachedEntry]:
        return self.core.renditions


class SchemaMissing(VyluxError):
    """The database has never been migrated; only ``serve``, ``work`` and ``migrate`` do."""

    code = "schema_missing"


async def _require_schema(profile: Profile, engine: Any) -> None:
    missing = SchemaMissing(
        "the database has no Vylux schema yet: run `vylux-cli migrate` (or start `serve`)"
    )
    if _sqlite_file_missing(profile) or not await schema_installed(engine):
        raise missing


def _sqlite_file_missing(profile: Profile) -> bool:
    # Connecting would create an empty file (or fail on a missing directory).
    database = profile.database_url
    return database.startswith("sqlite") and not Path(database.removeprefix("sqlite:///")).is_file()


@asynccontextmanager
async def open_runtime(config: Config, *, migrate_schema: bool = True) -> AsyncIterator[Runtime]:
    """Migrate, then open every shared resource; closes them in reverse order.

    Tool commands pass ``migrate_schema=False``: they only check that the schema is
    there (raising :class:`SchemaMissing`) and leave migrating to the services.
    """
    profile = choose_profile(config)
    logger.info("starting: %s", profile.describe())
    if migrate_schema:
        await migrate(profile)
    clock = SystemClock()
    metrics = Metrics(build_registry())
    async with AsyncExitStack() as stack:
        tracer_provider = build_tracer_provider("vylux", version("vylux"), config.otel_endpoint)
        stack.callback(tracer_provider.shutdown)
        engine = create_engine(profile.database_url)
        stack.push_async_callback(engine.dispose)
        if not migrate_schema:
            await _require_schema(profile, engine)
        queue, rate_limiter, ping_queue = await _open_queue(config, stack, engine, clock)
        source = await _open_store(profile.source_store, "source", metrics, stack)
        media = await _open_store(profile.media_store, "media", metrics, stack)
        keys = SqlKeyStore(engine=engine, clock=clock)
        jobs = SqlJobStore(engine=engine, clock=clock)
        cache_index = SqlImageCacheIndex(engine=engine, clock=clock)
        images = PyvipsImageProcessor(
            max_pixels=config.image_max_pixels, budget=image_budget_of(config)
        )
        stack.push_async_callback(images.aclose)
        ports = Ports(
            clock=clock, ids=Uuid4IdGenerator(), entropy=OsEntropy(),
            jobs=jobs, keys=keys, cache_index=cache_index, queue=queue,
            rate_limiter=rate_limiter, source=source, media=media, images=images,
            probes={
                "database": partial(ping_database, engine), "queue": ping_queue,
                "source storage": source.ping, "media storage": media.ping,
            },
        )  # fmt: skip
        core_settings = core_settings_of(config)
        yield Runtime(
            config=config, profile=profile, metrics=metrics, tracer_provider=tracer_provider,
            ports=ports, core_settings=core_settings,
            core=wire_core(
                ports, core_settings, record_readiness_failure=metrics.record_readiness_failure
            ),
            jobs=jobs, keys=keys, cache_index=cache_index,
            outbox=SqlWebhookOutbox(engine=engine, clock=clock), queue=queue, images=images,
        )  # fmt: skip


def core_settings_of(config: Config) -> CoreSettings:
    """Secrets, keys and limits of the core's services, as configured."""
    keks, current = parse_kek_config(config.secrets.encryption_key)
    image_budget = image_budget_of(config)
    return CoreSettings(
        hmac_secret=config.secrets.hmac_secret,
        key_token_secret=config.secrets.key_token_secret,
        base_url=config.base_url,
        keks=keks,
        current_kek_version=current,
        rendition_cache_bytes=config.cache_max_size,
        job_limits=JobLimits(
            max_file_size=config.max_file_size,
            large_file_threshold=config.large_file_threshold,
            image_budget=image_budget,
        ),
        image_limits=ImageLimits(
            max_source_bytes=config.image_max_source_bytes,
            result_budget=image_budget,
            source_bytes_in_flight=config.image_source_bytes_in_flight,
            budget_wait_seconds=config.image_budget_wait,
        ),
    )


def image_budget_of(config: Config) -> ResultBudget:
    """The one result budget of ``/img`` and ``image:thumbnail`` (server and worker)."""
    return ResultBudget(
        max_result_pixels=config.image_max_result_pixels, max_upscale=config.image_max_upscale
    )


async def _open_queue(
    config: Config, stack: AsyncExitStack, engine: Any, clock: SystemClock
) -> tuple[RedisTaskQueue | SqlTaskQueue, RateLimiter, Callable[[], Awaitable[Any]]]:
    if config.redis_url:
        client = create_redis_client(config.redis_url)
        stack.push_async_callback(client.aclose)
        queue: RedisTaskQueue | SqlTaskQueue = RedisTaskQueue(
            client=client, clock=clock, rng=random.Random()
        )
        return queue, RedisRateLimiter(client=client, clock=clock), client.ping
    queue = SqlTaskQueue(engine=engine, clock=clock, rng=random.Random())
    return queue, MemoryRateLimiter(clock=clock), partial(ping_database, engine)


async def ping_database(engine: Any) -> None:
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")


async def _open_store(
    location: S3Settings | Path, role: str, metrics: Metrics, stack: AsyncExitStack
) -> ObjectStore:
    if isinstance(location, Path):
        store: ObjectStore = LocalDirObjectStore(root=location)
        driver, bucket = "local", str(location)
    else:
        s3 = await S3ObjectStore.create(
            settings=S3BucketSettings(
                endpoint=location.endpoint, access_key=location.access_key,
                secret_key=location.secret_key, region=location.region, bucket=location.bucket,
            )
        )  # fmt: skip
        stack.push_async_callback(s3.aclose)
        store, driver, bucket = s3, "s3", location.bucket
    return InstrumentedObjectStore(
        store, metrics, "source" if role == "source" else "media", driver, bucket=bucket
    )


def metrics_endpoint_of(runtime: Runtime) -> MetricsApp:
    """The ``/metrics`` app of this process (every listener serves this one)."""
    return metrics_app(
        runtime.metrics, runtime.metrics.registry, runtime.queue.stats,
        outbox_depth=runtime.outbox.pending_count,
    )  # fmt: skip


def metrics_listener_app(runtime: Runtime) -> WorkerListenerApp:
    """``/healthz`` + ``/metrics`` only: METRICS_PORT of ``serve``, WORKER_METRICS_PORT."""
    return WorkerListenerApp(metrics_endpoint_of(runtime))


def imgproxy_dialect_of(config: Config, inspector: ImageInspector) -> ImgproxyDialect | None:
    """imgproxy's URL dialect as configured; None when ``IMGPROXY_ENABLED`` is off."""
    settings = config.imgproxy
    if settings is None:
        return None
    signer = ImgproxySigner(
        pairs=settings.key_pairs,
        signature_size=settings.signature_size,
        allow_insecure=settings.allow_insecure,
    )
    return ImgproxyDialect(
        inspector=inspector,
        prefix=settings.path_prefix,
        settings=ImgproxySettings(
            signer=signer,
            presets=settings.presets,
            only_presets=settings.only_presets,
            auto_avif=settings.auto_avif,
            auto_webp=settings.auto_webp,
            source_bucket=config.source_s3.bucket if config.source_s3 else "",
            budget=image_budget_of(config),
            watermark_key=settings.watermark_path,
        ),
    )


@asynccontextmanager
async def build_server(runtime: Runtime) -> AsyncIterator[ASGIApp]:
    """The HTTP application; drains pending cache writes on exit."""
    config = runtime.config
    write_behind = WriteBehind()
    try:
        services = http_services(
            runtime.ports, runtime.core, runtime.core_settings,
            write_behind=write_behind,
            imgproxy=imgproxy_dialect_of(config, runtime.images),
            # With METRICS_PORT set, /metrics lives on its own listener only
            # (metrics_listener_app) and the API port answers it with 404.
            metrics_app=None if config.metrics_port else metrics_endpoint_of(runtime),
            extra_middleware=[
                Middleware(TracingMiddleware, tracer_provider=runtime.tracer_provider),
                Middleware(HttpMetricsMiddleware, metrics=runtime.metrics),
                *([Middleware(AccessLogMiddleware)] if config.access_log else []),
            ],
        )  # fmt: skip
        yield create_app(
            services=services,
            settings=HttpSettings(
                api_key=config.secrets.api_key,
                allow_private_callbacks=config.allow_private_callbacks,
                body_read_timeout=config.body_read_timeout,
                max_body_bytes=config.max_body_bytes,
                callback_resolve_timeout=config.callback_resolve_timeout,
                jobs_rate_limit=config.jobs_rate_limit,
                key_rate_limit=config.key_rate_limit,
                key_ip_rate_limit=config.key_ip_rate_limit,
                trusted_proxy_count=config.trusted_proxy_count,
                cors_allowed_origins=config.cors_allowed_origins,
                stream_cors_allowed_origins=config.stream_cors_allowed_origins,
                dashboard_enabled=config.dashboard_enabled,
            ),
        )
    finally:
        still_running = await write_behind.drain(max_wait=config.shutdown_timeout)
        if still_running:
            logger.warning("%d cache writes were still running at shutdown", still_running)


async def checked_media_binaries(config: Config) -> MediaBinaries:
    """The configured media tools, once checked: a missing executable, or an ffmpeg without
    a decoder, encoder or filter the worker needs, is a ``ConfigError`` (one line naming
    what is missing) before any job is taken, not a failed job later."""
    try:
        binaries = MediaBinaries.resolve(
            ffmpeg=config.ffmpeg_path, ffprobe=config.ffprobe_path,
            packager=config.shaka_packager_path,
        )  # fmt: skip
        await verify_ffmpeg(binaries.ffmpeg)
    except FileNotFoundError as exc:
        raise ConfigError([f"{exc} (FFMPEG_PATH, FFPROBE_PATH, SHAKA_PACKAGER_PATH)"]) from exc
    except FfmpegIncomplete as exc:
        raise ConfigError([f"FFMPEG_PATH: {exc} (docs/media.md)"]) from exc
    return binaries


@asynccontextmanager
async def build_worker(runtime: Runtime) -> AsyncIterator[WorkerRuntime]:
    """The worker pools and background loops of this process."""
    config = runtime.config
    binaries = await checked_media_binaries(config)
    scratch = LocalScratchSpace(root=config.scratch_dir)
    # A worker killed mid-attempt (SIGKILL, OOM, power loss) leaves its directories behind.
    stale = await scratch.sweep_stale()
    if stale:
        logger.warning(
            "removed %d scratch directories left by a stopped worker in %s", len(stale),
            scratch.root,
        )  # fmt: skip
    webhook_sender = HttpxWebhookSender(
        allow_private=config.allow_private_callbacks,
        resolve_timeout=config.callback_resolve_timeout,
        tracer_provider=runtime.tracer_provider,
    )
    try:
        yield wire_worker(
            runtime.ports,
            WorkerPorts(
                consumer=runtime.queue, outbox=runtime.outbox,
                toolchain=FfmpegMediaToolchain(binaries=binaries),
                audio=FfmpegAudioToolchain(binaries=binaries),
                scratch=scratch, webhook_sender=webhook_sender,
            ),
            runtime.core,
            runtime.core_settings,
            WorkerSettings(
                worker_id=f"{os.uname().nodename}-{os.getpid()}",
                webhook_secret=config.secrets.webhook_secret,
                concurrency=config.worker_concurrency,
                large_concurrency=config.large_worker_concurrency,
                lease_seconds=config.worker_lease_timeout,
                shutdown_timeout=config.worker_shutdown_timeout,
                reconcile_grace=config.reconcile_grace,
                reconcile_interval=config.reconcile_interval,
            ),
            decorate=partial(
                instrument_handlers,
                metrics=runtime.metrics,
                tracer_provider=runtime.tracer_provider,
            ),
            record_webhook_outcome=runtime.metrics.record_webhook_delivery,
        )  # fmt: skip
    finally:
        await webhook_sender.aclose()
