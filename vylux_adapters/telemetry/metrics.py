"""Prometheus metric families of http-api §9.2, registered on a registry the caller owns.

Each process builds one registry (:func:`build_registry`) and one :class:`Metrics` on it;
tests build as many as they like, which the global default registry would not allow
(registering a family twice raises). Families with labels render their ``# HELP`` and
``# TYPE`` lines before any sample, which the I27 acceptance test relies on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeAlias

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from vylux_adapters.telemetry.loop_metrics import (
    LoopCounter,
    LoopCounterChild,
    LoopHistogram,
    LoopHistogramChild,
)
from vylux_core.jobs.task import QueueStats
from vylux_core.services import RenditionSource
from vylux_core.worker.webhook_deliverer import DeliveryOutcome

ImageErrorStage = Literal["source_fetch", "process"]
TaskResult = Literal["success", "error"]
StorageRole = Literal["source", "media"]
StorageOperation = Literal["get", "put", "size", "delete", "list", "head_bucket"]
StorageResult = Literal["ok", "error"]
# Other modules name the registry type through this alias, so that prometheus_client
# stays imported by the telemetry package alone (STYLE rule 12).
Registry: TypeAlias = CollectorRegistry
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST

# The default buckets (5 ms … 10 s) would put every video task in +Inf; a transcode
# may run for hours, so the tail reaches 6 h (D108).
WORKER_TASK_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0, 21600.0,
)  # fmt: skip
# Default buckets plus a few minutes: whole-file downloads and multipart uploads of
# large videos are storage operations too, and would otherwise all land in +Inf.
STORAGE_OPERATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip

QUEUE_STATES = (
    "size", "pending", "active", "scheduled", "retry", "archived", "completed", "aggregating",
)  # fmt: skip


def build_registry(*, process_collectors: bool = True) -> CollectorRegistry:
    """A fresh registry for one process, with the process/platform/GC collectors the
    exposition includes, unless ``process_collectors`` is false."""
    registry = CollectorRegistry()
    if process_collectors:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        # The module-level collectors live on the default registry; ours needs its own.
        GCCollector(registry=registry)
    return registry


def render_exposition(registry: Registry) -> bytes:
    """``registry`` in the Prometheus text format (served as ``EXPOSITION_CONTENT_TYPE``)."""
    return generate_latest(registry)


# RFC 9110 methods and PATCH; any other token a client sends is counted as "_OTHER"
# (as OpenTelemetry's semantic conventions do), so made-up methods cannot grow the
# label sets without bound.
KNOWN_HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
OTHER_HTTP_METHOD = "_OTHER"


class Metrics:
    """Every Vylux metric family, on ``registry``; the attributes are the raw families.

    The per-request families (HTTP and ``/img``) are :mod:`loop_metrics` ones: they
    must only be updated from the event loop thread.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._http_children: dict[
            tuple[str, str, int], tuple[LoopCounterChild, LoopHistogramChild]
        ] = {}
        # What each rendition source counts, found once: four label lookups a request
        # otherwise, on the path that serves cached images.
        self._rendition_counters: dict[RenditionSource, tuple[LoopCounterChild, ...]] = {}
        http_labels = ("method", "route", "status")
        self.http_requests = LoopCounter(
            "vylux_http_requests_total",
            "HTTP requests by method, route template and final status.",
            http_labels,
            registry=registry,
        )
        self.http_request_duration = LoopHistogram(
            "vylux_http_request_duration_seconds",
            "HTTP request duration in seconds.",
            http_labels,
            registry=registry,
        )
        self.image_cache_events = LoopCounter(
            "vylux_image_cache_events_total",
            "Image cache lookups by layer (memory/storage) and result (hit/miss).",
            ("layer", "result"),
            registry=registry,
        )
        self.image_results = LoopCounter(
            "vylux_image_results_total",
            "Image requests by outcome (memory_hit/storage_hit/processed/error).",
            ("result",),
            registry=registry,
        )
        self.image_errors = LoopCounter(
            "vylux_image_errors_total",
            "Image request failures by stage (source_fetch/process) and HTTP status.",
            ("stage", "status"),
            registry=registry,
        )
        task_labels = ("task_type", "result")
        self.worker_tasks = Counter(
            "vylux_worker_tasks_total",
            "Worker task attempts by task type and result.",
            task_labels,
            registry=registry,
        )
        self.worker_task_duration = Histogram(
            "vylux_worker_task_duration_seconds",
            "Worker task attempt duration in seconds.",
            task_labels,
            buckets=WORKER_TASK_BUCKETS,
            registry=registry,
        )
        storage_labels = ("role", "driver", "operation", "result")
        self.storage_operations = Counter(
            "vylux_storage_operations_total",
            "Object storage operations by store role, driver, operation and result.",
            storage_labels,
            registry=registry,
        )
        self.storage_operation_duration = Histogram(
            "vylux_storage_operation_duration_seconds",
            "Object storage operation duration in seconds.",
            storage_labels,
            buckets=STORAGE_OPERATION_BUCKETS,
            registry=registry,
        )
        self.readiness_failures = Counter(
            "vylux_readiness_failures_total",
            "Failed /readyz checks by check name.",
            ("check",),
            registry=registry,
        )
        self.queue_tasks = Gauge(
            "vylux_queue_tasks",
            "Tasks per queue and state, refreshed on every scrape.",
            ("queue", "state"),
            registry=registry,
        )
        self.webhook_deliveries = Counter(
            "vylux_webhook_deliveries_total",
            "Webhook delivery attempts by outcome (delivered/retry/failed).",
            ("outcome",),
            registry=registry,
        )
        # Every outcome from the start: a rate over a series that appears only with its
        # first failure misses that failure.
        for outcome in DeliveryOutcome:
            self.webhook_deliveries.labels(outcome.value)
        self.webhook_outbox_depth = Gauge(
            "vylux_webhook_outbox_depth",
            "Webhook deliveries not yet delivered or given up on, read on every scrape.",
            registry=registry,
        )
        self.queue_sync_failures = Counter(
            "vylux_queue_metrics_sync_failures_total",
            "Failed reads of the queue statistics during a scrape.",
            registry=registry,
        )

    def observe_http_request(
        self, method: str, route: str, status: int, duration_seconds: float
    ) -> None:
        children = self._http_children.get((method, route, status))
        if children is None:
            children = self._http_children_for(method, route, status)
        counter, histogram = children
        counter.inc()
        histogram.observe(duration_seconds)

    def _http_children_for(
        self, method: str, route: str, status: int
    ) -> tuple[LoopCounterChild, LoopHistogramChild]:
        method_label = method if method in KNOWN_HTTP_METHODS else OTHER_HTTP_METHOD
        labels = (method_label, route, str(status))
        children = (
            self.http_requests.labels(*labels),
            self.http_request_duration.labels(*labels),
        )
        # Keyed by the method as sent: only the known ones, so the dict stays small.
        if method_label == method:
            self._http_children[(method, route, status)] = children
        return children

    def record_image_rendition(self, source: RenditionSource) -> None:
        """A served ``/img`` rendition: its cache lookups and its outcome.

        The lookups are implied by where the bytes came from: a storage hit follows a
        memory miss, a fresh rendition follows both misses.
        """
        counters = self._rendition_counters.get(source)
        if counters is None:
            counters = self._rendition_counters[source] = self._rendition_counters_for(source)
        for counter in counters:
            counter.inc()

    def _rendition_counters_for(self, source: RenditionSource) -> tuple[LoopCounterChild, ...]:
        events = self.image_cache_events
        lookups: tuple[LoopCounterChild, ...]
        if source is RenditionSource.MEMORY:
            lookups = (events.labels("memory", "hit"),)
        else:
            storage = "hit" if source is RenditionSource.STORAGE else "miss"
            lookups = (events.labels("memory", "miss"), events.labels("storage", storage))
        return (*lookups, self.image_results.labels(source.value))

    def record_image_error(self, stage: ImageErrorStage, status: int) -> None:
        """A failed ``/img`` request (404/502 fetching, 422/500 transforming).

        Both cache layers missed before the source was touched, so they count too.
        """
        self._cache_event("memory", "miss")
        self._cache_event("storage", "miss")
        self.image_results.labels("error").inc()
        self.image_errors.labels(stage, str(status)).inc()

    def observe_worker_task(
        self, task_type: str, result: TaskResult, duration_seconds: float
    ) -> None:
        """One task attempt, as the worker's handler wrapper sees it."""
        self.worker_tasks.labels(task_type, result).inc()
        self.worker_task_duration.labels(task_type, result).observe(duration_seconds)

    def observe_storage_operation(
        self,
        role: StorageRole,
        driver: str,
        operation: StorageOperation,
        result: StorageResult,
        duration_seconds: float,
    ) -> None:
        labels = (role, driver, operation, result)
        self.storage_operations.labels(*labels).inc()
        self.storage_operation_duration.labels(*labels).observe(duration_seconds)

    def record_readiness_failure(self, check: str) -> None:
        """``check`` names the failed ``/readyz`` check: ``database``, ``queue``,
        ``source storage`` or ``media storage`` (docs/differences.md D39)."""
        self.readiness_failures.labels(check).inc()

    def record_webhook_delivery(self, outcome: DeliveryOutcome) -> None:
        self.webhook_deliveries.labels(outcome.value).inc()

    def set_webhook_outbox_depth(self, pending: int) -> None:
        self.webhook_outbox_depth.set(pending)

    def set_queue_stats(self, stats: Iterable[QueueStats]) -> None:
        """Replace the queue gauge with ``stats``: queues no longer reported disappear.

        Clearing and refilling happens without an ``await`` in between, so a scrape on
        the same event loop never renders a half-filled gauge.
        """
        self.queue_tasks.clear()
        for queue in stats:
            counts = {
                "pending": queue.pending,
                "active": queue.active,
                "scheduled": queue.scheduled,
                "retry": queue.retry,
                "archived": queue.archived,
                # The queue keeps no completed tasks and has no task aggregation.
                "completed": 0,
                "aggregating": 0,
            }
            counts["size"] = sum(counts.values())
            for state in QUEUE_STATES:
                self.queue_tasks.labels(queue.queue, state).set(counts[state])

    def record_queue_sync_failure(self) -> None:
        self.queue_sync_failures.inc()

    def _cache_event(self, layer: str, result: str) -> None:
        self.image_cache_events.labels(layer, result).inc()
