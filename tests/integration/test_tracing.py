"""OpenTelemetry: the tracing middleware (U21), trace carriers (U22, U24), the tracer
provider's OTLP endpoint rules and the storage spans."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from opentelemetry import baggage
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import request_response

from vylux_adapters.http.middleware.metrics import HttpMetricsMiddleware
from vylux_adapters.http.middleware.tracing import TracingMiddleware
from vylux_adapters.http.routing import RawPathRoute
from vylux_adapters.memory import MemoryObjectStore
from vylux_adapters.telemetry import (
    InstrumentedObjectStore,
    Metrics,
    build_registry,
    build_tracer_provider,
    extract_context,
    inject_carrier,
    otlp_traces_url,
    trace_id_hex,
)
from vylux_core.errors import ObjectNotFound

INCOMING_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{INCOMING_TRACE_ID}-{INCOMING_SPAN_ID}-01"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


async def healthz(request: Request) -> Response:
    return PlainTextResponse("OK")


async def job(request: Request) -> Response:
    return JSONResponse(
        {
            "trace_id": trace_id_hex(),
            "carrier": inject_carrier(),
            # Asked twice: an unsampled span makes its span id once, on first use.
            "carrier_again": inject_carrier(),
            "baggage": baggage.get_baggage("tenant"),
        }
    )


async def crash(request: Request) -> Response:
    raise RuntimeError("handler bug")


def build_app(provider: TracerProvider) -> Starlette:
    return Starlette(
        routes=[
            RawPathRoute("/healthz", {"GET": request_response(healthz)}, head=True),
            RawPathRoute("/api/jobs/:id", {"GET": request_response(job)}, head=True),
            RawPathRoute("/crash", {"GET": request_response(crash)}, head=True),
        ],
        middleware=[
            Middleware(TracingMiddleware, tracer_provider=provider),
            Middleware(HttpMetricsMiddleware, metrics=Metrics(build_registry())),
        ],
    )


@asynccontextmanager
async def client_for(provider: TracerProvider) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(provider), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://vylux.test") as client:
        yield client


def server_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    return span


@pytest.mark.parametrize(
    ("path", "status"),
    [("/healthz", 200), ("/api/jobs/j1", 200), ("/missing", 404), ("/crash", 500)],
)
async def test_u21_every_response_carries_a_fresh_trace_id(
    provider: TracerProvider, exporter: InMemorySpanExporter, path: str, status: int
) -> None:
    async with client_for(provider) as client:
        response = await client.get(path)

    assert response.status_code == status
    trace_id = response.headers["x-trace-id"]
    assert HEX32.match(trace_id)
    assert trace_id == format(server_span(exporter).context.trace_id, "032x")


async def test_unhandled_errors_answer_the_json_500(provider: TracerProvider) -> None:
    async with client_for(provider) as client:
        response = await client.get("/crash")

    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}
    assert len(response.headers.get_list("x-trace-id")) == 1


async def test_u21_incoming_traceparent_sets_the_trace(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with client_for(provider) as client:
        response = await client.get("/api/jobs/j1", headers={"traceparent": TRACEPARENT})

    assert response.headers["x-trace-id"] == INCOMING_TRACE_ID
    assert response.json()["trace_id"] == INCOMING_TRACE_ID  # the handler runs in the span
    span = server_span(exporter)
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == INCOMING_SPAN_ID


async def test_u21_incoming_x_trace_id_is_ignored(provider: TracerProvider) -> None:
    async with client_for(provider) as client:
        response = await client.get("/healthz", headers={"X-Trace-ID": INCOMING_TRACE_ID})

    assert response.headers.get_list("x-trace-id") != [INCOMING_TRACE_ID]
    assert len(response.headers.get_list("x-trace-id")) == 1


async def test_only_request_headers_parent_the_server_span(provider: TracerProvider) -> None:
    # ASGITransport runs the app in the test's context; a span current there must not
    # become the request's parent.
    with provider.get_tracer("test").start_as_current_span("caller") as caller:
        async with client_for(provider) as client:
            response = await client.get("/healthz")

    assert response.headers["x-trace-id"] != format(caller.get_span_context().trace_id, "032x")


async def test_invalid_traceparent_starts_a_new_trace(provider: TracerProvider) -> None:
    async with client_for(provider) as client:
        response = await client.get("/healthz", headers={"traceparent": "00-zz-yy-01"})

    assert HEX32.match(response.headers["x-trace-id"])


async def test_baggage_reaches_the_handler(provider: TracerProvider) -> None:
    headers = {"traceparent": TRACEPARENT, "baggage": "tenant=acme"}
    async with client_for(provider) as client:
        body = (await client.get("/api/jobs/j1", headers=headers)).json()

    assert body["baggage"] == "acme"
    assert body["carrier"]["traceparent"].split("-")[1] == INCOMING_TRACE_ID
    assert "baggage" not in body["carrier"]  # carriers hold the trace context only


@pytest.mark.parametrize(
    ("path", "name", "status_code"),
    [
        ("/api/jobs/j1", "/api/jobs/:id", StatusCode.UNSET),
        ("/missing", "GET", StatusCode.UNSET),
        ("/crash", "/crash", StatusCode.ERROR),
    ],
)
async def test_server_span_is_named_after_the_route_template(
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    path: str,
    name: str,
    status_code: StatusCode,
) -> None:
    async with client_for(provider) as client:
        response = await client.get(path)

    span = server_span(exporter)
    assert span.name == name
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == response.status_code
    assert span.status.status_code is status_code


def test_u22_carrier_survives_a_queue_payload_round_trip(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /api/jobs") as producer:
        carrier = inject_carrier()
    payload = json.loads(json.dumps({**carrier, "job_id": "j1", "retries": 3}))

    with tracer.start_as_current_span("video:full", context=extract_context(payload)) as consumer:
        pass

    assert set(carrier) == {"traceparent"}  # no tracestate was set, so none is written
    assert consumer.get_span_context().trace_id == producer.get_span_context().trace_id
    [finished] = [s for s in exporter.get_finished_spans() if s.name == "video:full"]
    assert finished.parent is not None
    assert finished.parent.span_id == producer.get_span_context().span_id


def test_tracestate_is_carried_too(provider: TracerProvider) -> None:
    incoming = extract_context({"traceparent": TRACEPARENT, "tracestate": "vendor=abc"})
    with provider.get_tracer("test").start_as_current_span("work", context=incoming):
        carrier = inject_carrier()

    assert carrier["tracestate"] == "vendor=abc"
    assert carrier["traceparent"].split("-")[1] == INCOMING_TRACE_ID


def test_u24_trace_id_matches_the_traceparent_for_webhook_headers(
    provider: TracerProvider,
) -> None:
    with provider.get_tracer("test").start_as_current_span("webhook"):
        carrier, trace_id = inject_carrier(), trace_id_hex()

    assert trace_id is not None
    assert carrier["traceparent"].split("-")[1] == trace_id


def test_no_active_span_means_an_empty_carrier() -> None:
    assert inject_carrier() == {}
    assert trace_id_hex() is None


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("", None),
        ("  ", None),
        ("collector:4318", "https://collector:4318/v1/traces"),
        ("http://collector:4318", "http://collector:4318/v1/traces"),
        ("http://collector:4318/", "http://collector:4318/v1/traces"),
        ("https://otel.example.com/custom/traces", "https://otel.example.com/custom/traces"),
    ],
)
def test_otlp_endpoint_forms(endpoint: str, url: str | None) -> None:
    assert otlp_traces_url(endpoint) == url


def test_otlp_endpoint_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="http"):
        otlp_traces_url("grpc://collector:4317")


def test_tracer_provider_names_the_service() -> None:
    provider = build_tracer_provider("vylux", "1.2.3", "")
    try:
        with provider.get_tracer("test").start_as_current_span("s") as span:
            assert span.get_span_context().is_valid  # spans exist even when not exported
        assert provider.resource.attributes["service.name"] == "vylux"
        assert provider.resource.attributes["service.version"] == "1.2.3"
    finally:
        provider.shutdown()


def test_tracer_provider_with_an_endpoint_builds_and_shuts_down() -> None:
    # No span is created: shutting down would then try to export to the collector.
    provider = build_tracer_provider("vylux", "1.2.3", "http://127.0.0.1:1")
    provider.shutdown()


async def test_storage_spans_carry_the_operation_attributes(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    store = InstrumentedObjectStore(
        MemoryObjectStore(),
        Metrics(build_registry(process_collectors=False)),
        "media",
        "s3",
        bucket="media-bucket",
        tracer_provider=provider,
    )

    await store.put_bytes("cache/a.webp", b"abcd", content_type="image/webp")
    await store.stat("cache/a.webp")
    with pytest.raises(ObjectNotFound):
        await store.stat("cache/missing.webp")

    put, found, missing = exporter.get_finished_spans()
    assert (put.name, found.name, missing.name) == ("storage.put", "storage.size", "storage.size")
    assert dict(put.attributes or {}) == {
        "storage.role": "media",
        "storage.driver": "s3",
        "storage.operation": "put",
        "storage.bucket": "media-bucket",
        "storage.key": "cache/a.webp",
        "storage.content_type": "image/webp",
        "storage.size": 4,
        "storage.result": "ok",
    }
    assert (found.attributes or {})["storage.size"] == 4
    assert (missing.attributes or {})["storage.result"] == "error"
    assert missing.status.status_code is StatusCode.ERROR
    assert [event.name for event in missing.events] == ["exception"]


# --- without an exporter: nothing is recorded, trace ids still flow ----------------------


@pytest.fixture
def unrecorded() -> Iterator[TracerProvider]:
    tracer_provider = build_tracer_provider("vylux", "test", "")
    yield tracer_provider
    tracer_provider.shutdown()


async def test_unrecorded_requests_still_get_fresh_trace_ids_the_handler_sees(
    unrecorded: TracerProvider,
) -> None:
    async with client_for(unrecorded) as client:
        first, second = [await client.get("/api/jobs/j1") for _ in range(2)]

    ids = [response.headers["x-trace-id"] for response in (first, second)]
    assert all(HEX32.match(trace_id) for trace_id in ids)
    assert ids[0] != ids[1]
    assert [response.json()["trace_id"] for response in (first, second)] == ids
    for response in (first, second):
        assert response.json()["carrier_again"] == response.json()["carrier"]


async def test_unrecorded_requests_continue_an_incoming_trace_as_the_sdk_would(
    unrecorded: TracerProvider,
) -> None:
    headers = {"traceparent": TRACEPARENT, "tracestate": "vendor=1", "baggage": "tenant=acme"}
    async with client_for(unrecorded) as client:
        response = await client.get("/api/jobs/j1", headers=headers)

    body = response.json()
    assert response.headers["x-trace-id"] == body["trace_id"] == INCOMING_TRACE_ID
    version, trace_id, span_id, flags = body["carrier"]["traceparent"].split("-")
    # A new span of the same trace; ALWAYS_OFF clears the sampled flag, as the SDK does.
    assert (version, trace_id, flags) == ("00", INCOMING_TRACE_ID, "00")
    assert re.fullmatch(r"[0-9a-f]{16}", span_id)
    assert span_id != INCOMING_SPAN_ID
    assert body["carrier"]["tracestate"] == "vendor=1"
    assert body["carrier_again"] == body["carrier"]
    assert body["baggage"] == "acme"


async def test_unrecorded_requests_ignore_invalid_and_ambient_context(
    unrecorded: TracerProvider,
) -> None:
    with unrecorded.get_tracer("test").start_as_current_span("caller") as caller:
        async with client_for(unrecorded) as client:
            invalid = await client.get("/api/jobs/j1", headers={"traceparent": "00-zz-yy-01"})
            plain = await client.get("/api/jobs/j1")

    caller_id = format(caller.get_span_context().trace_id, "032x")
    for response in (invalid, plain):
        assert HEX32.match(response.headers["x-trace-id"])
        assert response.headers["x-trace-id"] != caller_id


async def test_unrecorded_crashes_answer_the_json_500_with_one_trace_id(
    unrecorded: TracerProvider,
) -> None:
    async with client_for(unrecorded) as client:
        response = await client.get("/crash")
        head = await client.head("/crash")

    assert response.status_code == head.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}
    assert head.content == b""
    assert len(response.headers.get_list("x-trace-id")) == 1
