"""InstrumentedObjectStore: metrics and spans around any ObjectStore, composed in
bootstrap so the stores themselves stay telemetry-free.

Port methods map onto the storage operation names of http-api §9.2 (the ``operation``
label and the ``storage.<op>`` span name):

==================================  ===============  ====================================
port method                         operation        extra span attribute
==================================  ===============  ====================================
``stat``                            ``size``         ``storage.size``
``open``, ``read_bytes``,           ``get``          ``storage.size`` (object or file)
``download``
``put_bytes``, ``upload_file``      ``put``          ``storage.content_type``,
                                                     ``storage.size`` (``put_bytes``)
``list``                            ``list``         ``storage.prefix``, ``storage.objects``
``delete_many``, ``delete_prefix``  ``delete``       ``storage.objects`` (+ prefix)
``ping``                            ``head_bucket``
==================================  ===============  ====================================

Timing: ``open`` measures the request only, not the body read later through the
reader; ``download`` and ``read_bytes`` include the body; ``list`` spans the whole
paginated iteration. Any exception, ``ObjectNotFound`` included, counts as
``result="error"``; the span records it and gets status ERROR.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from vylux_adapters.telemetry.metrics import (
    Metrics,
    StorageOperation,
    StorageResult,
    StorageRole,
)
from vylux_core.ports.object_store import ByteRange, ObjectInfo, ObjectReader, ObjectStore

TRACER_NAME = "vylux/storage"


class InstrumentedObjectStore:
    """Implements ``ObjectStore`` by delegating to ``inner``, observing each call.

    ``bucket`` only labels spans (``storage.bucket``); ``tracer_provider`` defaults to
    the global one, which is a no-op unless bootstrap installed a real provider.
    """

    def __init__(
        self,
        inner: ObjectStore,
        metrics: Metrics,
        role: StorageRole,
        driver: str,
        *,
        bucket: str = "",
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._role: StorageRole = role
        self._driver = driver
        self._bucket = bucket
        self._tracer = trace.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)

    async def stat(self, key: str) -> ObjectInfo:
        with self._observed("size", key=key) as span:
            info = await self._inner.stat(key)
            span.set_attribute("storage.size", info.size)
            return info

    async def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        with self._observed("get", key=key) as span:
            reader = await self._inner.open(key, byte_range)
            span.set_attribute("storage.size", reader.info.size)
            return reader

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        with self._observed("get", key=key) as span:
            data = await self._inner.read_bytes(key, max_bytes=max_bytes)
            span.set_attribute("storage.size", len(data))
            return data

    async def download(self, key: str, destination: Path) -> int:
        with self._observed("get", key=key) as span:
            size = await self._inner.download(key, destination)
            span.set_attribute("storage.size", size)
            return size

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        with self._observed("put", key=key, content_type=content_type) as span:
            span.set_attribute("storage.size", len(data))
            await self._inner.put_bytes(
                key, data, content_type=content_type, cache_control=cache_control
            )

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        with self._observed("put", key=key, content_type=content_type):
            await self._inner.upload_file(key, source, content_type=content_type)

    async def list(self, prefix: str) -> AsyncGenerator[str, None]:
        # An async generator cannot keep a span "current" across its yields (the
        # context would leak into the consumer), so the span is started detached.
        span = self._tracer.start_span(
            "storage.list",
            kind=SpanKind.INTERNAL,
            attributes={**self._attributes("list"), "storage.prefix": prefix},
        )
        started = time.perf_counter()
        ok = False
        count = 0
        keys = self._inner.list(prefix)
        try:
            async for key in keys:
                count += 1
                yield key
            ok = True
        except GeneratorExit:
            ok = True  # the consumer stopped early; the listing did not fail
            raise
        except Exception as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            close = getattr(keys, "aclose", None)
            if close is not None:
                await close()
            span.set_attribute("storage.objects", count)
            self._finish(span, "list", started, ok=ok)
            span.end()

    async def delete_many(self, keys: Iterable[str]) -> None:
        doomed = tuple(keys)  # counted for the span, then handed on
        with self._observed("delete") as span:
            span.set_attribute("storage.objects", len(doomed))
            await self._inner.delete_many(doomed)

    async def delete_prefix(self, prefix: str) -> int:
        with self._observed("delete") as span:
            span.set_attribute("storage.prefix", prefix)
            deleted = await self._inner.delete_prefix(prefix)
            span.set_attribute("storage.objects", deleted)
            return deleted

    async def ping(self) -> None:
        with self._observed("head_bucket"):
            await self._inner.ping()

    @contextmanager
    def _observed(
        self,
        operation: StorageOperation,
        *,
        key: str | None = None,
        content_type: str | None = None,
    ) -> Iterator[Span]:
        attributes = self._attributes(operation)
        if key is not None:
            attributes["storage.key"] = key
        if content_type is not None:
            attributes["storage.content_type"] = content_type
        started = time.perf_counter()
        ok = False
        # The span records an escaping exception and sets status ERROR by itself.
        with self._tracer.start_as_current_span(
            f"storage.{operation}", kind=SpanKind.INTERNAL, attributes=attributes
        ) as span:
            try:
                yield span
                ok = True
            finally:
                self._finish(span, operation, started, ok=ok)

    def _attributes(self, operation: StorageOperation) -> dict[str, AttributeValue]:
        return {
            "storage.role": self._role,
            "storage.driver": self._driver,
            "storage.operation": operation,
            "storage.bucket": self._bucket,
        }

    def _finish(self, span: Span, operation: StorageOperation, started: float, *, ok: bool) -> None:
        result: StorageResult = "ok" if ok else "error"
        span.set_attribute("storage.result", result)
        self._metrics.observe_storage_operation(
            self._role, self._driver, operation, result, time.perf_counter() - started
        )
