"""Telemetry adapters: Prometheus metric families, OpenTelemetry set-up and carriers,
and decorators that add both to a port (STYLE rule 12). Only this package (and the
HTTP metrics endpoint/middleware built on it) imports ``prometheus_client``."""

from vylux_adapters.telemetry.instrumented_object_store import InstrumentedObjectStore
from vylux_adapters.telemetry.metrics import Metrics, build_registry
from vylux_adapters.telemetry.tracing import (
    build_tracer_provider,
    extract_context,
    inject_carrier,
    otlp_traces_url,
    task_trace_context,
    trace_id_hex,
)

__all__ = [
    "InstrumentedObjectStore",
    "Metrics",
    "build_registry",
    "build_tracer_provider",
    "extract_context",
    "inject_carrier",
    "otlp_traces_url",
    "task_trace_context",
    "trace_id_hex",
]
