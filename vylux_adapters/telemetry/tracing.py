"""OpenTelemetry set-up and W3C trace-context carriers.

The tracer provider is built here and handed to whoever creates spans (the HTTP
middleware, the instrumented stores); it is not installed as the global provider, so
tests can build as many as they like. Carriers use W3C TraceContext (+ Baggage when
reading requests); what is written into queue payloads and webhook headers is only
``traceparent``/``tracestate``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

OTLP_TRACES_PATH = "/v1/traces"
CARRIER_FIELDS = ("traceparent", "tracestate")


def otlp_traces_url(endpoint: str) -> str | None:
    """The OTLP/HTTP traces URL for ``OTEL_EXPORTER_OTLP_ENDPOINT``, or None if unset.

    ``host[:port]`` means HTTPS on the default path; an ``http://`` URL is sent in the
    clear; a URL path other than ``/`` replaces the default traces path. Raises
    ``ValueError`` for other schemes.
    """
    endpoint = endpoint.strip().rstrip("/")
    if not endpoint:
        return None
    if "://" not in endpoint:
        return f"https://{endpoint}{OTLP_TRACES_PATH}"
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("OTLP endpoint must be host[:port] or an http(s) URL with a host")
    path = parts.path if parts.path not in ("", "/") else OTLP_TRACES_PATH
    return f"{parts.scheme}://{parts.netloc}{path}"


def build_tracer_provider(service_name: str, version: str, otlp_endpoint: str) -> TracerProvider:
    """An SDK provider with the service resource; exports over OTLP/HTTP only when
    ``otlp_endpoint`` is set.

    Without an exporter nothing would read a recorded span, so none is recorded
    (``ALWAYS_OFF``): spans are then non-recording but still carry trace ids, taken
    from an incoming ``traceparent`` or freshly made, so ``X-Trace-ID``, log fields
    and propagation work the same. Recording is a large share of the cost of a
    cached ``/img`` hit.

    The caller owns it: ``shutdown()`` on exit flushes the batch exporter.
    """
    resource = Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: version})
    url = otlp_traces_url(otlp_endpoint)
    if url is None:
        return TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    return provider


def _request_propagator() -> CompositePropagator:
    # Built per call: propagators are stateless and cheap, and this keeps the module
    # free of shared objects.
    return CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])


def extract_context(carrier: Mapping[str, object], context: Context | None = None) -> Context:
    """The context a carrier describes, on top of ``context`` (default: the current one).

    ``carrier`` may be request headers or a whole decoded queue payload: only string
    values are read, names case-insensitively. An invalid or missing ``traceparent``
    leaves the trace unset, so the next span starts a new trace.
    """
    fields = {key.lower(): value for key, value in carrier.items() if isinstance(value, str)}
    return _request_propagator().extract(fields, context=context)


def inject_carrier(context: Context | None = None) -> dict[str, str]:
    """``traceparent`` (and ``tracestate`` when non-empty) of ``context`` (default: the
    current one); empty when no valid span is active. Baggage is left out on purpose:
    it is not part of queue payloads or webhook headers."""
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, context=context)
    return {key: value for key, value in carrier.items() if key in CARRIER_FIELDS and value}


def trace_id_hex(context: Context | None = None) -> str | None:
    """The 32-hex trace id of the span in ``context`` (default: current), or None."""
    span_context = trace.get_current_span(context).get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x")


@contextmanager
def task_trace_context(payload: Mapping[str, object]) -> Iterator[None]:
    """Makes the trace a queue task was submitted under current inside the block.

    Spans started there (the worker's per-task span) become children of the API
    request that enqueued the task, so one trace runs from ``POST /api/jobs`` to the
    final webhook. A payload without a valid ``traceparent`` starts no trace: the
    block then runs under an empty context, never the worker's ambient one.
    """
    token = otel_context.attach(extract_context(payload, Context()))
    try:
        yield
    finally:
        otel_context.detach(token)
