"""Prometheus telemetry: metric families, the HTTP metrics middleware, ``/metrics``, the
worker listener (U20) and the instrumented object store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import request_response
from starlette.types import ASGIApp

from tests.support.metrics import assert_i27_metrics
from vylux_adapters.http.handoff import ImageError, attach_image_outcome
from vylux_adapters.http.metrics_endpoint import metrics_app, worker_listener_app
from vylux_adapters.http.middleware.metrics import HttpMetricsMiddleware
from vylux_adapters.http.routing import RawPathRoute
from vylux_adapters.memory import MemoryObjectStore
from vylux_adapters.telemetry import InstrumentedObjectStore, Metrics, build_registry
from vylux_core.errors import ObjectNotFound
from vylux_core.jobs.task import QueueStats
from vylux_core.ports.object_store import ObjectStore
from vylux_core.services import RenditionSource

FAMILIES = {
    "vylux_http_requests_total": "counter",
    "vylux_http_request_duration_seconds": "histogram",
    "vylux_image_cache_events_total": "counter",
    "vylux_image_results_total": "counter",
    "vylux_image_errors_total": "counter",
    "vylux_worker_tasks_total": "counter",
    "vylux_worker_task_duration_seconds": "histogram",
    "vylux_storage_operations_total": "counter",
    "vylux_storage_operation_duration_seconds": "histogram",
    "vylux_readiness_failures_total": "counter",
    "vylux_queue_tasks": "gauge",
    "vylux_queue_metrics_sync_failures_total": "counter",
}
QueueStatsSource = Callable[[], Awaitable[list[QueueStats]]]
ERROR_MARKS: dict[str, ImageError] = {
    "source_fetch:404": ImageError("source_fetch", 404),
    "source_fetch:502": ImageError("source_fetch", 502),
    "process:422": ImageError("process", 422),
    "process:500": ImageError("process", 500),
}


def queue_stats(queue: str, **counts: int) -> QueueStats:
    fields = {"pending": 0, "active": 0, "scheduled": 0, "retry": 0, "archived": 0} | counts
    return QueueStats(queue=queue, oldest_pending_age_seconds=0.0, **fields)


def fixed_stats(*stats: QueueStats) -> QueueStatsSource:
    async def read() -> list[QueueStats]:
        return list(stats)

    return read


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("OK")


async def image(request: Request) -> Response:
    """Hands over the outcome the ``outcome`` query asks for, as the image routes do."""
    outcome = request.query_params.get("outcome", "processed")
    if outcome == "bad-request":
        return JSONResponse({"message": "bad options"}, status_code=400)
    if outcome in ERROR_MARKS:
        error = ERROR_MARKS[outcome]
        attach_image_outcome(request.scope, error)
        return JSONResponse({"message": "failed"}, status_code=error.status)
    attach_image_outcome(request.scope, RenditionSource(outcome))
    return Response(b"image-bytes", media_type="image/webp")


async def create_job(_request: Request) -> Response:
    return JSONResponse({"job_id": "j1"}, status_code=202)


async def crash(_request: Request) -> Response:
    raise RuntimeError("handler bug")


def build_app(metrics: Metrics, queue_source: QueueStatsSource | None = None) -> Starlette:
    def route(template: str, endpoint: ASGIApp, method: str = "GET") -> RawPathRoute:
        return RawPathRoute(template, {method: endpoint})

    scrape_app = metrics_app(metrics, metrics.registry, queue_source)
    return Starlette(
        routes=[
            route("/healthz", request_response(healthz)),
            route("/metrics", scrape_app),
            route("/img/:sig/:opts/*", request_response(image)),
            route("/api/jobs", request_response(create_job), "POST"),
            route("/crash", request_response(crash)),
        ],
        middleware=[Middleware(HttpMetricsMiddleware, metrics=metrics)],
    )


@asynccontextmanager
async def client_for(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://vylux.test") as client:
        yield client


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(build_registry())


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def scrape(metrics: Metrics, queue_source: QueueStatsSource | None = None) -> str:
    async with client_for(build_app(metrics, queue_source)) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


async def test_every_family_renders_before_any_sample(metrics: Metrics) -> None:
    text = await scrape(metrics)

    for name, kind in FAMILIES.items():
        assert f"# HELP {name} " in text
        assert f"# TYPE {name} {kind}" in text
    assert "python_info" in text  # the process-wide collectors are on the registry too
    # Only the scrape itself and the unlabelled counter have samples yet.
    assert "vylux_image_errors_total{" not in text
    assert "vylux_queue_metrics_sync_failures_total 0.0" in text


def test_registries_are_independent() -> None:
    first, second = Metrics(build_registry()), Metrics(build_registry(process_collectors=False))

    first.record_readiness_failure("redis")

    assert sample(first, "vylux_readiness_failures_total", check="redis") == 1
    assert sample(second, "vylux_readiness_failures_total", check="redis") is None


async def test_requests_are_counted_by_method_route_template_and_status(metrics: Metrics) -> None:
    async with client_for(build_app(metrics)) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/img/sig/w300/a%2Fb.jpg.webp")).status_code == 200
        assert (await client.post("/api/jobs")).status_code == 202
        assert (await client.get("/no/such/path")).status_code == 404
        assert (await client.get("/crash")).status_code == 500

    http = "vylux_http_requests_total"
    assert sample(metrics, http, method="GET", route="/healthz", status="200") == 2
    assert sample(metrics, http, method="GET", route="/img/:sig/:opts/*", status="200") == 1
    assert sample(metrics, http, method="POST", route="/api/jobs", status="202") == 1
    assert sample(metrics, http, method="GET", route="unmatched", status="404") == 1
    assert sample(metrics, http, method="GET", route="/crash", status="500") == 1
    duration = "vylux_http_request_duration_seconds_count"
    assert sample(metrics, duration, method="GET", route="/healthz", status="200") == 2


@pytest.mark.parametrize(
    ("outcome", "expected_events"),
    [
        pytest.param("memory_hit", {("memory", "hit"): 1}, id="memory"),
        pytest.param("storage_hit", {("memory", "miss"): 1, ("storage", "hit"): 1}, id="storage"),
        pytest.param("processed", {("memory", "miss"): 1, ("storage", "miss"): 1}, id="processed"),
    ],
)
async def test_image_renditions_count_cache_events_and_results(
    metrics: Metrics, outcome: str, expected_events: dict[tuple[str, str], int]
) -> None:
    async with client_for(build_app(metrics)) as client:
        await client.get(f"/img/sig/w300/a.jpg.webp?outcome={outcome}")

    for layer in ("memory", "storage"):
        for result in ("hit", "miss"):
            expected = expected_events.get((layer, result))
            events = sample(metrics, "vylux_image_cache_events_total", layer=layer, result=result)
            assert events == expected, (layer, result)
    assert sample(metrics, "vylux_image_results_total", result=outcome) == 1


@pytest.mark.parametrize(
    ("stage", "status"),
    [("source_fetch", "404"), ("source_fetch", "502"), ("process", "422"), ("process", "500")],
)
async def test_image_errors_count_stage_and_status(
    metrics: Metrics, stage: str, status: str
) -> None:
    async with client_for(build_app(metrics)) as client:
        response = await client.get(f"/img/sig/w300/a.jpg.webp?outcome={stage}:{status}")
    assert response.status_code == int(status)

    assert sample(metrics, "vylux_image_errors_total", stage=stage, status=status) == 1
    assert sample(metrics, "vylux_image_results_total", result="error") == 1
    assert sample(metrics, "vylux_image_cache_events_total", layer="storage", result="miss") == 1


async def test_unmarked_image_requests_record_no_image_metrics(metrics: Metrics) -> None:
    async with client_for(build_app(metrics)) as client:
        assert (await client.get("/img/sig/bad/a.jpg.webp?outcome=bad-request")).status_code == 400

    text = await scrape(metrics)
    assert "vylux_image_results_total{" not in text
    assert "vylux_image_cache_events_total{" not in text


async def test_i27_metrics_after_healthz_image_and_job(metrics: Metrics) -> None:
    source = fixed_stats(queue_stats("critical", pending=2, active=1), queue_stats("default"))
    async with client_for(build_app(metrics, source)) as client:
        await client.get("/healthz")
        await client.get("/img/sig/w300/a.jpg.webp")
        await client.post("/api/jobs")
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    assert_i27_metrics(response.text)


async def test_scrape_refreshes_every_queue_state(metrics: Metrics) -> None:
    stats = queue_stats("video:large", pending=1, active=2, scheduled=3, retry=4, archived=5)

    await scrape(metrics, fixed_stats(stats))

    expected = {"size": 15, "pending": 1, "active": 2, "scheduled": 3, "retry": 4, "archived": 5}
    expected |= {"completed": 0, "aggregating": 0}
    for state, value in expected.items():
        assert sample(metrics, "vylux_queue_tasks", queue="video:large", state=state) == value


async def test_queues_that_disappear_leave_the_gauge(metrics: Metrics) -> None:
    await scrape(metrics, fixed_stats(queue_stats("critical", pending=1), queue_stats("default")))
    await scrape(metrics, fixed_stats(queue_stats("critical", pending=4)))

    assert sample(metrics, "vylux_queue_tasks", queue="critical", state="pending") == 4
    assert sample(metrics, "vylux_queue_tasks", queue="default", state="pending") is None


async def test_failed_queue_refresh_counts_and_keeps_serving(metrics: Metrics) -> None:
    await scrape(metrics, fixed_stats(queue_stats("critical", pending=3)))

    async def broken() -> list[QueueStats]:
        raise ConnectionError("redis down")

    text = await scrape(metrics, broken)

    assert "vylux_queue_metrics_sync_failures_total 1.0" in text
    assert sample(metrics, "vylux_queue_tasks", queue="critical", state="pending") == 3


def test_worker_task_durations_reach_hours(metrics: Metrics) -> None:
    metrics.observe_worker_task("video:full", "success", 3 * 3600.0)
    metrics.observe_worker_task("image:thumbnail", "error", 0.2)

    bucket = "vylux_worker_task_duration_seconds_bucket"
    assert sample(metrics, bucket, task_type="video:full", result="success", le="3600.0") == 0
    assert sample(metrics, bucket, task_type="video:full", result="success", le="14400.0") == 1
    assert sample(metrics, bucket, task_type="video:full", result="success", le="21600.0") == 1
    tasks = "vylux_worker_tasks_total"
    assert sample(metrics, tasks, task_type="image:thumbnail", result="error") == 1


def test_readiness_failures_are_counted_per_check(metrics: Metrics) -> None:
    metrics.record_readiness_failure("source bucket")
    metrics.record_readiness_failure("source bucket")

    assert sample(metrics, "vylux_readiness_failures_total", check="source bucket") == 2


async def test_u20_worker_listener_serves_only_healthz_and_metrics(metrics: Metrics) -> None:
    app = worker_listener_app(metrics, metrics.registry, fixed_stats(queue_stats("default")))
    async with client_for(app) as client:
        health = await client.get("/healthz")
        scraped = await client.get("/metrics")
        ready = await client.get("/readyz")
        posted = await client.post("/metrics")

    assert (health.status_code, health.text) == (200, "OK")
    assert health.headers["content-type"] == "text/plain; charset=UTF-8"
    assert scraped.status_code == 200
    assert "vylux_image_results_total" in scraped.text
    assert 'queue="default",state="size"' in scraped.text
    assert ready.status_code == 404
    assert posted.status_code == 405


async def test_worker_listener_completes_the_lifespan_protocol(metrics: Metrics) -> None:
    app = worker_listener_app(metrics, metrics.registry)
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return incoming.pop(0)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)  # type: ignore[arg-type]

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_instrumented_store_counts_operations_by_port_method(metrics: Metrics) -> None:
    store: ObjectStore = InstrumentedObjectStore(
        MemoryObjectStore(), metrics, "media", "memory", bucket="media"
    )

    await store.put_bytes("cache/a.webp", b"abc", content_type="image/webp")
    assert (await store.stat("cache/a.webp")).size == 3
    assert await store.read_bytes("cache/a.webp", max_bytes=10) == b"abc"
    reader = await store.open("cache/a.webp")
    await reader.aclose()
    assert [key async for key in store.list("cache/")] == ["cache/a.webp"]
    await store.delete_many(["cache/a.webp"])
    await store.ping()
    with pytest.raises(ObjectNotFound):
        await store.read_bytes("cache/a.webp", max_bytes=10)

    def count(operation: str, result: str = "ok") -> float | None:
        labels = {"role": "media", "driver": "memory", "operation": operation, "result": result}
        return sample(metrics, "vylux_storage_operations_total", **labels)

    assert {op: count(op) for op in ("put", "size", "get", "list", "delete")} == {
        "put": 1,
        "size": 1,
        "get": 2,
        "list": 1,
        "delete": 1,
    }
    assert count("head_bucket") == 1
    assert count("get", "error") == 1
    duration = "vylux_storage_operation_duration_seconds_count"
    labels = {"role": "media", "driver": "memory", "operation": "get", "result": "ok"}
    assert sample(metrics, duration, **labels) == 2


async def test_instrumented_listing_stopped_early_counts_as_ok(metrics: Metrics) -> None:
    inner = MemoryObjectStore()
    for name in ("a", "b", "c"):
        await inner.put_bytes(f"images/{name}", b"x", content_type="text/plain")
    store = InstrumentedObjectStore(inner, metrics, "source", "memory")

    listing = store.list("images/")
    assert await anext(listing) == "images/a"
    await listing.aclose()

    labels = {"role": "source", "driver": "memory", "operation": "list", "result": "ok"}
    assert sample(metrics, "vylux_storage_operations_total", **labels) == 1
