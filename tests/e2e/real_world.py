"""The HTTP world on the production adapters: PostgreSQL, Redis, SeaweedFS, libvips.

:func:`real_world` picks the production adapters itself and wires them with
:mod:`vylux_cli.wiring`, as ``vylux_cli.bootstrap`` does, then hands them out as a
:class:`~tests.e2e.http_world.World`, so tests written for the memory world run here
too. It does not go through bootstrap's choice of adapters: the configuration refuses
the spec's short test secrets, bootstrap's Redis keys have no per-test prefix, and
each store would build its own boto3 clients (a second or so of botocore model parsing
per test).

Each world starts from nothing: emptied tables, a fresh Redis key prefix (the queue's
and the rate limiter's, deleted afterwards) and two fresh buckets, source and media.
``unreachable`` points chosen dependencies at a closed port instead, which is how
real outages are tested. The injected ones of :class:`Outages` work here too (every
adapter is wrapped as in the memory world), and so do the reader counts; only
``advance_clock`` does not: the system clock cannot be moved.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Collection, Iterator, Mapping
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
)
from functools import partial
from importlib.metadata import version
from typing import Any, Literal

import redis.asyncio
from attrs import frozen
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

from tests.e2e.http_world import (
    Outages,
    ReaderCount,
    World,
    counted_store,
    serve_world,
    switched,
    world_core_settings,
)
from tests.support.databases import emptied_engine
from tests.support.redis import redis_client, redis_prefix
from tests.support.seaweedfs import S3Server, fresh_bucket
from vylux_adapters.http.metrics_endpoint import metrics_app
from vylux_adapters.http.middleware.metrics import HttpMetricsMiddleware
from vylux_adapters.http.middleware.tracing import TracingMiddleware
from vylux_adapters.redis import RedisRateLimiter, RedisTaskQueue, create_redis_client
from vylux_adapters.s3 import S3BucketSettings, S3Clients, S3ObjectStore, S3Tuning, build_clients
from vylux_adapters.sql import SqlImageCacheIndex, SqlJobStore, SqlKeyStore, create_engine
from vylux_adapters.system import OsEntropy, SystemClock, Uuid4IdGenerator
from vylux_adapters.telemetry import (
    InstrumentedObjectStore,
    Metrics,
    build_registry,
    build_tracer_provider,
)
from vylux_adapters.telemetry.metrics import StorageRole
from vylux_adapters.vips import PyvipsImageProcessor
from vylux_cli.bootstrap import ping_database
from vylux_cli.wiring import Ports
from vylux_core.errors import DatabaseUnavailable, QueueUnavailable, Unavailable
from vylux_core.images.write_behind import WriteBehind
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.rate_limiter import RateLimiter
from vylux_core.security.key_ring import parse_kek_config
from vylux_core.services import ImageLimits, JobLimits

Dependency = Literal["database", "queue", "source", "media"]

# The spec's fixtures (http-api §14): an LRU of 64 MiB. The rest are the config defaults
# bootstrap would pass (IMAGE_MAX_PIXELS, IMAGE_MAX_SOURCE_BYTES).
LRU_BYTES = 64 << 20
IMAGE_MAX_PIXELS = 100_000_000
IMAGE_MAX_SOURCE_BYTES = 50 << 20
ENCRYPTION_KEY = "00112233445566778899aabbccddeeff" * 2
DRAIN_SECONDS = 5.0


@frozen(kw_only=True)
class RealBackends:
    """The session's services; ``world`` builds a fresh world on them (a WorldFactory)."""

    postgres_url: str
    s3_server: S3Server
    s3_clients: S3Clients

    def world(
        self,
        *,
        http: Mapping[str, Any] | None = None,
        job_limits: JobLimits | None = None,
        unreachable: Collection[Dependency] = (),
    ) -> AbstractAsyncContextManager[World]:
        return real_world(self, http=http, job_limits=job_limits, unreachable=unreachable)


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections at once: bound but never listening,
    so no other process can take it while the world uses it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@asynccontextmanager
async def real_world(
    backends: RealBackends,
    *,
    http: Mapping[str, Any] | None = None,
    job_limits: JobLimits | None = None,
    unreachable: Collection[Dependency] = (),
) -> AsyncIterator[World]:
    """``http`` overrides :class:`HttpSettings` fields (``api_key`` is always API_KEY)."""
    async with AsyncExitStack() as stack:
        dead_port = stack.enter_context(closed_port())
        clock = SystemClock()
        outages = Outages()
        readers = ReaderCount()
        metrics = Metrics(build_registry())
        tracer_provider = build_tracer_provider("vylux", version("vylux"), "")
        stack.callback(tracer_provider.shutdown)

        engine = await stack.enter_async_context(
            _engine(backends.postgres_url, dead_port if "database" in unreachable else None)
        )
        client, prefix = await stack.enter_async_context(
            _redis(dead_port if "queue" in unreachable else None)
        )
        redis_queue = RedisTaskQueue(client=client, clock=clock, rng=random.Random(), prefix=prefix)
        limiter: RateLimiter = switched(
            RedisRateLimiter(client=client, clock=clock, prefix=f"{prefix}:ratelimit"),
            outages,
            "rate_limiter",
            Unavailable,
        )

        stores: dict[StorageRole, ObjectStore] = {}
        roles: tuple[StorageRole, ...] = ("source", "media")
        for role in roles:
            inner, bucket = await _bucket_store(
                stack, backends, dead_port if role in unreachable else None
            )
            instrumented = InstrumentedObjectStore(inner, metrics, role, "s3", bucket=bucket)
            # Outermost, as in the memory world: readers are counted, outages injectable.
            stores[role] = counted_store(instrumented, readers, outages, role)
        source, media = stores["source"], stores["media"]

        jobs = switched(
            SqlJobStore(engine=engine, clock=clock), outages, "database", DatabaseUnavailable
        )
        key_store = switched(
            SqlKeyStore(engine=engine, clock=clock), outages, "database", DatabaseUnavailable
        )
        cache_index = switched(
            SqlImageCacheIndex(engine=engine, clock=clock), outages, "database", DatabaseUnavailable
        )
        queue = switched(redis_queue, outages, "queue", QueueUnavailable)

        write_behind = WriteBehind()
        processor = PyvipsImageProcessor(max_pixels=IMAGE_MAX_PIXELS)
        stack.push_async_callback(processor.aclose)
        # Pending cache writes finish before the buckets are deleted (LIFO: registered
        # after the buckets, so it runs before they are emptied).
        stack.push_async_callback(write_behind.drain, DRAIN_SECONDS)
        keks, current = parse_kek_config(ENCRYPTION_KEY)

        ports = Ports(
            clock=clock,
            ids=Uuid4IdGenerator(),
            entropy=OsEntropy(),
            jobs=jobs,
            keys=key_store,
            cache_index=cache_index,
            queue=queue,
            rate_limiter=limiter,
            source=source,
            media=media,
            images=processor,
            probes={
                "database": outages.probe(
                    "database", DatabaseUnavailable, partial(ping_database, engine)
                ),
                "queue": outages.probe("queue", QueueUnavailable, client.ping),
                "source storage": source.ping,
                "media storage": media.ping,
            },
        )
        core_settings = world_core_settings(
            keks,
            current,
            rendition_cache_bytes=LRU_BYTES,
            job_limits=job_limits,
            image_limits=ImageLimits(max_source_bytes=IMAGE_MAX_SOURCE_BYTES),
        )
        async with serve_world(
            ports,
            core_settings,
            http=http,
            write_behind=write_behind,
            metrics_app=metrics_app(metrics, metrics.registry, queue.stats),
            extra_middleware=[
                Middleware(TracingMiddleware, tracer_provider=tracer_provider),
                Middleware(HttpMetricsMiddleware, metrics=metrics),
            ],
            consumer=redis_queue,
            advance_clock=_no_time_travel,
            outages=outages,
            readers=readers,
        ) as world:
            yield world


def _no_time_travel(_seconds: float) -> None:
    raise NotImplementedError("the real world runs on the system clock; use memory_world")


@asynccontextmanager
async def _engine(postgres_url: str, dead_port: int | None) -> AsyncIterator[AsyncEngine]:
    if dead_port is None:
        async with emptied_engine(postgres_url) as engine:
            yield engine
        return
    # No connection is made until first use, so building it on a dead port is fine.
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{dead_port}/vylux")
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def _redis(dead_port: int | None) -> AsyncIterator[tuple[redis.asyncio.Redis, str]]:
    if dead_port is not None:
        client = create_redis_client(f"redis://127.0.0.1:{dead_port}/0")
        try:
            yield client, "vylux-test-unreachable"
        finally:
            await client.aclose()
        return
    async with redis_client() as client, redis_prefix(client) as prefix:
        yield client, prefix


async def _bucket_store(
    stack: AsyncExitStack, backends: RealBackends, dead_port: int | None
) -> tuple[S3ObjectStore, str]:
    """A store on a fresh bucket of the session's server, through its shared clients
    (the store does not own them), or on a bucket behind a closed port."""
    if dead_port is None:
        bucket = stack.enter_context(fresh_bucket(backends.s3_server))
        return S3ObjectStore(clients=backends.s3_clients, bucket=bucket), bucket
    settings = S3BucketSettings(
        endpoint=f"http://127.0.0.1:{dead_port}",
        access_key="unreachable",
        secret_key="unreachable",
        region="us-east-1",
        bucket="unreachable",
    )
    # One attempt: botocore's retry backoff would only make the test slower.
    tuning = S3Tuning(max_attempts=1)
    clients = await asyncio.to_thread(build_clients, settings, tuning=tuning, pool_size=4)
    stack.callback(clients.close)
    return S3ObjectStore(clients=clients, bucket=settings.bucket, tuning=tuning), settings.bucket
