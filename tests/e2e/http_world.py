"""The world the HTTP end-to-end tests drive: ``create_app`` on real core services.

:func:`memory_world` builds it on the in-memory adapters. Tests only use the
:class:`World` surface (ports, the app, the client, helpers), so the same tests can
run on other adapters by giving the ``make_world`` fixture another factory.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar, cast
from urllib.parse import quote, unquote_to_bytes

import httpx
import pytest
from attrs import define, field
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message

from vylux_adapters.http import HttpSettings, create_app
from vylux_adapters.memory import (
    FakeImageProcessor,
    ManualClock,
    MemoryImageCacheIndex,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectStore,
    MemoryRateLimiter,
    MemoryTaskQueue,
    MemoryWebhookOutbox,
    SequentialIdGenerator,
)
from vylux_adapters.system.entropy import OsEntropy
from vylux_cli import bootstrap
from vylux_cli.config import Config, environment_with_defaults
from vylux_cli.wiring import CoreSettings, Ports, http_services, wire_core
from vylux_core.errors import (
    DatabaseUnavailable,
    QueueUnavailable,
    StorageUnavailable,
    Unavailable,
)
from vylux_core.images.byte_lru import ByteLRU
from vylux_core.images.options import parse_format, parse_image_options
from vylux_core.images.write_behind import WriteBehind
from vylux_core.ports.clock import Clock
from vylux_core.ports.image_cache_index import ImageCacheIndex
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.key_store import KeyStore
from vylux_core.ports.object_store import ByteRange, ObjectInfo, ObjectReader, ObjectStore
from vylux_core.ports.rate_limiter import RateLimiter
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.security.key_ring import KeyEncryptionKey
from vylux_core.security.key_token import mint_key_token
from vylux_core.security.signing import UrlSigner
from vylux_core.services import CachedRendition, ImageLimits, JobLimits, KeyService

HMAC_SECRET = "test-hmac-secret"
API_KEY = "test-api-key"
KEY_TOKEN_SECRET = "test-key-token-secret"
BASE = "http://vylux.test"
API = {"X-API-Key": API_KEY}
IMMUTABLE = "public, max-age=31536000, immutable"
PLAIN = "text/plain; charset=UTF-8"

T = TypeVar("T")


class Outages:
    """Dependencies switched off (``down``: they raise their Unavailable error) or
    broken (``crash``: they raise a bug-like RuntimeError) by a test."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.crashed: set[str] = set()

    def check(self, name: str, error: Callable[[str], Exception]) -> None:
        if name in self.crashed:
            raise RuntimeError(f"{name} crashed: internal detail 10.1.2.3:5432")
        if name in self.down:
            raise error(f"{name} is down")

    def probe(
        self,
        name: str,
        error: Callable[[str], Exception],
        ping: Callable[[], Awaitable[Any]] | None = None,
    ) -> Callable[[], Awaitable[None]]:
        """A readiness probe that fails while ``name`` is switched off, then asks
        ``ping`` (the real dependency) if there is one."""

        async def check() -> None:
            self.check(name, error)
            if ping is not None:
                await ping()

        return check


class _Switched:
    """Fault injection around any adapter: each coroutine (or async generator)
    method first asks ``outages`` whether ``name`` still works."""

    def __init__(
        self, inner: object, *, outages: Outages, name: str, error: Callable[[str], Exception]
    ) -> None:
        self._inner = inner
        self._outages = outages
        self._name = name
        self._error = error

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._inner, attr)
        if inspect.isasyncgenfunction(value):

            async def generator(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
                self._outages.check(self._name, self._error)
                async for item in value(*args, **kwargs):
                    yield item

            return generator
        if inspect.iscoroutinefunction(value):

            async def call(*args: Any, **kwargs: Any) -> Any:
                self._outages.check(self._name, self._error)
                return await value(*args, **kwargs)

            return call
        return value


def switched(inner: T, outages: Outages, name: str, error: Callable[[str], Exception]) -> T:
    return cast(T, _Switched(inner, outages=outages, name=name, error=error))


class ReaderCount:
    """How many opened objects are not closed yet (every response must close its)."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0

    @property
    def open(self) -> int:
        return self.opened - self.closed


class _CountedReader:
    def __init__(self, inner: ObjectReader, count: ReaderCount) -> None:
        self._inner = inner
        self._count = count
        self._closed = False

    @property
    def info(self) -> ObjectInfo:
        return self._inner.info

    def chunks(self) -> AsyncIterator[bytes]:
        return self._inner.chunks()

    async def readinto(self, buffer: memoryview) -> int:
        return await self._inner.readinto(buffer)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._count.closed += 1
        await self._inner.aclose()


class _CountingStore(_Switched):
    def __init__(self, inner: ObjectStore, count: ReaderCount, outages: Outages, name: str) -> None:
        super().__init__(inner, outages=outages, name=name, error=StorageUnavailable)
        self._store = inner
        self._count = count

    async def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        self._outages.check(self._name, self._error)
        reader = await self._store.open(key, byte_range)
        self._count.opened += 1
        return _CountedReader(reader, self._count)


def counted_store(
    inner: ObjectStore, readers: ReaderCount, outages: Outages, name: str
) -> ObjectStore:
    """``inner`` with its opened readers counted in ``readers`` and switchable by
    ``outages`` under ``name`` (the outermost layer of every world's stores)."""
    return cast(ObjectStore, _CountingStore(inner, readers, outages, name))


@define
class RawResponse:
    status: int
    headers: httpx.Headers
    body: bytes


@define(kw_only=True)
class World:
    app: ASGIApp
    client: httpx.AsyncClient
    settings: HttpSettings
    source: ObjectStore
    media: ObjectStore
    jobs: JobStore
    queue: TaskQueue
    consumer: TaskConsumer
    key_store: KeyStore
    key_service: KeyService
    cache_index: ImageCacheIndex
    renditions: ByteLRU[CachedRendition]
    write_behind: WriteBehind
    signer: UrlSigner
    clock: Clock
    advance_clock: Callable[[float], None]
    """Moves ``clock`` (and every service on it) forward; a factory with a real clock
    cannot offer this, and the few tests that travel in time need it."""
    outages: Outages
    readers: ReaderCount = field(factory=ReaderCount)

    # --- signed paths -------------------------------------------------------------------

    def img_path(self, opts: str, key: str, fmt: str, *, encoded: str | None = None) -> str:
        sig = self.signer.sign_image(parse_image_options(opts), key, parse_format(fmt))
        return f"/img/{sig}/{opts}/{quote(key, safe='') if encoded is None else encoded}.{fmt}"

    def original_path(self, key: str, *, encoded: str | None = None) -> str:
        sig = self.signer.sign_original(key)
        return f"/original/{sig}/{quote(key, safe='') if encoded is None else encoded}"

    def thumb_path(self, key: str, *, encoded: str | None = None) -> str:
        sig = self.signer.sign_thumb(key)
        return f"/thumb/{sig}/{quote(key, safe='') if encoded is None else encoded}"

    def key_token(self, media_hash: str, *, expires_in: int = 3600) -> str:
        exp = int(self.clock.now().timestamp()) + expires_in
        return mint_key_token(KEY_TOKEN_SECRET, media_hash, exp)

    # --- requests -----------------------------------------------------------------------

    async def raw(
        self,
        method: str,
        raw_path: bytes,
        headers: Sequence[tuple[bytes, bytes]] = (),
        *,
        disconnect_after_start: bool = False,
    ) -> RawResponse:
        """One request with exactly this path (httpx would resolve ``..``), straight
        into the ASGI app. ``disconnect_after_start`` plays a client that goes away
        as soon as the response headers arrive."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
            "raw_path": raw_path,
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"vylux.test"), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("vylux.test", 80),
        }
        messages: list[Message] = []
        request_sent = False
        # Like a server: after the body, receive() blocks until the client is gone.
        gone = asyncio.Event()

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            await asyncio.sleep(0)  # a socket write gives other tasks a turn
            messages.append(message)
            if message["type"] == "http.response.start" and disconnect_after_start:
                gone.set()
            if message["type"] == "http.response.body" and not message.get("more_body"):
                gone.set()

        await self.app(scope, receive, send)
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
        return RawResponse(start["status"], httpx.Headers(raw_headers), body)

    # --- fixtures in storage ------------------------------------------------------------

    async def put_source(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        await self.source.put_bytes(key, data, content_type=content_type)

    async def put_media(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        await self.media.put_bytes(key, data, content_type=content_type)

    async def create_job(self, body: Mapping[str, Any]) -> httpx.Response:
        return await self.client.post("/api/jobs", json=body, headers=API)


WorldFactory = Callable[..., AbstractAsyncContextManager[World]]

# I2, I3: /img of a source that is missing or does not decode.
SOURCE_ERRORS = [
    pytest.param(None, 404, "source image not found", id="i2-missing-source"),
    pytest.param(b"not-a-valid-image", 422, "unprocessable source image", id="i3-corrupt"),
]


async def source_error(
    world: World, source: bytes | None, status: int, message: str
) -> httpx.Response:
    """A SOURCE_ERRORS case on any world: ``source`` (None: nothing) stored and rendered
    answers ``status`` with ``message`` and no fallback image; the caller checks what it
    must not have cached."""
    if source is not None:
        await world.put_source("uploads/x.png", source)
    response = await world.client.get(world.img_path("w64", "uploads/x.png", "webp"))
    assert (response.status_code, response.json()) == (status, {"message": message})
    assert "x-fallback" not in response.headers
    return response


async def check_health_endpoints(world: World) -> None:
    """I19 on any world: /healthz and /readyz answer 200 "OK" as plain text."""
    for path in ("/healthz", "/readyz"):
        response = await world.client.get(path)
        assert (response.status_code, response.text, response.headers["content-type"]) == (
            200,
            "OK",
            PLAIN,
        )


async def check_media_purge_removes_tracked_renditions(
    world: World, image: bytes, cache_objects: Callable[[World], Awaitable[list[str]]]
) -> str:
    """I26 on any world: a rendition of ``image`` is stored under ``cache/``, tracked in
    the index and held in memory, and ``DELETE /api/media/{hash}`` removes all three.
    ``cache_objects`` waits for the background cache write as the world allows; the
    source key is returned for the caller's checks of what must stay."""
    content_hash = "a" * 64
    source_key = f"uploads/aa/{content_hash}"
    await world.put_source(source_key, image)
    response = await world.client.get(world.img_path("w16", source_key, "webp"))
    assert response.status_code == 200
    cached = await cache_objects(world)
    entries = await world.cache_index.list_by_hash(content_hash)
    assert [entry.storage_key for entry in entries] == cached
    assert world.renditions.get(entries[0].cache_key) is not None

    purge = await world.client.delete(f"/api/media/{content_hash}", headers=API)

    assert purge.status_code == 204
    assert await world.cache_index.list_by_hash(content_hash) == []
    assert [key async for key in world.media.list("cache/")] == []
    assert world.renditions.get(entries[0].cache_key) is None
    return source_key


@asynccontextmanager
async def memory_world(
    *,
    http: Mapping[str, Any] | None = None,
    job_limits: JobLimits | None = None,
    metrics_app: ASGIApp | None = None,
    extra_middleware: Sequence[Middleware] = (),
) -> AsyncIterator[World]:
    """``http`` overrides :class:`HttpSettings` fields (``api_key`` is always API_KEY)."""
    clock = ManualClock()
    outages = Outages()
    readers = ReaderCount()
    source = counted_store(MemoryObjectStore(), readers, outages, "source")
    media = counted_store(MemoryObjectStore(), readers, outages, "media")
    # With an outbox: a cancel writes the job's final webhook there.
    job_store = MemoryJobStore(clock=clock, outbox=MemoryWebhookOutbox())
    jobs = switched(job_store, outages, "database", DatabaseUnavailable)
    key_store = switched(MemoryKeyStore(clock=clock), outages, "database", DatabaseUnavailable)
    cache_index = switched(MemoryImageCacheIndex(), outages, "database", DatabaseUnavailable)
    memory_queue = MemoryTaskQueue(clock=clock, rng=random.Random(7))
    queue = switched(memory_queue, outages, "queue", QueueUnavailable)
    limiter: RateLimiter = switched(
        MemoryRateLimiter(clock=clock), outages, "rate_limiter", Unavailable
    )
    write_behind = WriteBehind()

    ports = Ports(
        clock=clock,
        ids=SequentialIdGenerator(),
        entropy=OsEntropy(),
        jobs=jobs,
        keys=key_store,
        cache_index=cache_index,
        queue=queue,
        rate_limiter=limiter,
        source=source,
        media=media,
        images=FakeImageProcessor(),
        # The spec's probe names (§9.1); bootstrap names them after the roles instead.
        probes={
            "postgres": outages.probe("database", DatabaseUnavailable),
            "redis": outages.probe("queue", QueueUnavailable),
            "source bucket": source.ping,
            "media bucket": media.ping,
        },
    )
    core_settings = world_core_settings(
        [KeyEncryptionKey(version="v1", key=bytes(range(32)))],
        "v1",
        rendition_cache_bytes=64 << 20,
        job_limits=job_limits,
        image_limits=ImageLimits(),
    )
    async with serve_world(
        ports,
        core_settings,
        http=http,
        write_behind=write_behind,
        metrics_app=metrics_app,
        extra_middleware=extra_middleware,
        consumer=memory_queue,
        advance_clock=clock.advance,
        outages=outages,
        readers=readers,
    ) as world:
        yield world
    await write_behind.drain(5.0)


def world_core_settings(
    keks: Sequence[KeyEncryptionKey],
    current_kek_version: str,
    *,
    rendition_cache_bytes: int,
    job_limits: JobLimits | None,
    image_limits: ImageLimits,
) -> CoreSettings:
    """The core's settings with the test secrets and base URL every world signs with."""
    return CoreSettings(
        hmac_secret=HMAC_SECRET,
        key_token_secret=KEY_TOKEN_SECRET,
        base_url=BASE,
        keks=keks,
        current_kek_version=current_kek_version,
        rendition_cache_bytes=rendition_cache_bytes,
        job_limits=job_limits or JobLimits(),
        image_limits=image_limits,
    )


@asynccontextmanager
async def serve_world(
    ports: Ports,
    core_settings: CoreSettings,
    *,
    http: Mapping[str, Any] | None,
    write_behind: WriteBehind,
    metrics_app: ASGIApp | None,
    extra_middleware: Sequence[Middleware],
    consumer: TaskConsumer,
    advance_clock: Callable[[float], None],
    outages: Outages,
    readers: ReaderCount,
) -> AsyncIterator[World]:
    """Wires the core and the HTTP app on ``ports`` and serves them to an in-process
    client; ``http`` overrides :class:`HttpSettings` fields (``api_key`` is always
    API_KEY). The caller drains ``write_behind`` once the world is closed."""
    core = wire_core(ports, core_settings)
    services = http_services(
        ports,
        core,
        core_settings,
        write_behind=write_behind,
        metrics_app=metrics_app,
        extra_middleware=extra_middleware,
    )
    settings = HttpSettings(**{**(http or {}), "api_key": API_KEY})
    app = create_app(services=services, settings=settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield World(
            app=app,
            client=client,
            settings=settings,
            source=ports.source,
            media=ports.media,
            jobs=ports.jobs,
            queue=ports.queue,
            consumer=consumer,
            key_store=ports.keys,
            key_service=core.key_service,
            cache_index=ports.cache_index,
            renditions=core.renditions,
            write_behind=write_behind,
            signer=core.signer,
            clock=ports.clock,
            advance_clock=advance_clock,
            outages=outages,
            readers=readers,
        )


@asynccontextmanager
async def client_from_environment() -> AsyncIterator[tuple[Config, httpx.AsyncClient]]:
    """The server ``vylux-cli serve`` would build from the current environment (set it
    with ``local_env``), and a client calling it in-process."""
    config = bootstrap.load_runtime_config(environment_with_defaults())
    async with (
        bootstrap.open_runtime(config) as runtime,
        bootstrap.build_server(runtime) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://vylux.test"
        ) as client,
    ):
        yield config, client
