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

from vylux_core.services import RenditionSource
from vylux_core.task import QueueStats

ImageErrorStage = Literal["source_fetch", "process"]
TaskResult = Literal["success", "error"]
StorageRole = Literal["source", "media"]
StorageOperation = Literal["get", "put", "exists", "size", "delete", "list", "head_bucket"]
StorageResult = Literal["ok", "error"]
# Other modules name the registry type through this alias, so that prometheus_client
# stays imported by the telemetry package alone (STYLE rule 12).
Registry: TypeAlias = CollectorRegistry
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST

# The reference's default buckets (5 ms … 10 s) put every video task in +Inf
# (worker-and-storage §16.14); a transcode may run for hours, so the tail reaches 6 h.
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
    reference's default registry carries (§9.2) unless ``process_collectors`` is false."""
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


MAX_REMEMBERED_HTTP_LABELS = 1024


class Metrics:
    """Every Vylux metric family, on ``registry``; the attributes are the raw families."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        # ``labels()`` takes a lock and checks every label value on each call; the HTTP
        # middleware counts every request, so its children are looked up once each.
        self._http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._image_children: dict[tuple[Counter | str, ...], Counter] = {}
        http_labels = ("method", "route", "status")
        self.http_requests = Counter(
            "vylux_http_requests_total",
            "HTTP requests by method, route template and final status.",
            http_labels,
            registry=registry,
        )
        self.http_request_duration = Histogram(
            "vylux_http_request_duration_seconds",
            "HTTP request duration in seconds.",
            http_labels,
            registry=registry,
        )
        self.image_cache_events = Counter(
            "vylux_image_cache_events_total",
            "Image cache lookups by layer (memory/storage) and result (hit/miss).",
            ("layer", "result"),
            registry=registry,
        )
        self.image_results = Counter(
            "vylux_image_results_total",
            "Image requests by outcome (memory_hit/storage_hit/processed/error).",
            ("result",),
            registry=registry,
        )
        self.image_errors = Counter(
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

    def _http_children_for(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        labels = (method, route, str(status))
        children = (
            self.http_requests.labels(*labels),
            self.http_request_duration.labels(*labels),
        )
        # Methods are the client's to choose; past this many combinations of them,
        # routes and statuses the lookups are simply not remembered.
        if len(self._http_children) < MAX_REMEMBERED_HTTP_LABELS:
            self._http_children[(method, route, status)] = children
        return children

    def record_image_rendition(self, source: RenditionSource) -> None:
        """A served ``/img`` rendition: its cache lookups and its outcome (§5.1.9).

        The lookups are implied by where the bytes came from: a storage hit follows a
        memory miss, a fresh rendition follows both misses.
        """
        if source is RenditionSource.MEMORY:
            self._cache_event("memory", "hit")
        else:
            self._cache_event("memory", "miss")
            self._cache_event("storage", "hit" if source is RenditionSource.STORAGE else "miss")
        self._image_child(self.image_results, source.value).inc()

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
        """One task attempt, as the worker's handler wrapper sees it (worker spec §2.5)."""
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
        """``check`` is one of ``postgres``, ``redis``, ``source bucket``, ``media bucket``."""
        self.readiness_failures.labels(check).inc()

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
        self._image_child(self.image_cache_events, layer, result).inc()

    def _image_child(self, family: Counter, *labels: str) -> Counter:
        # A handful of fixed label sets, looked up on every /img request.
        key: tuple[Counter | str, ...] = (family, *labels)
        child = self._image_children.get(key)
        if child is None:
            child = self._image_children[key] = family.labels(*labels)
        return child
