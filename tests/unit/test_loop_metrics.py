"""loop_metrics: the lock-free families render as prometheus_client's own would."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from vylux_adapters.telemetry.loop_metrics import LoopCounter, LoopHistogram
from vylux_adapters.telemetry.metrics import OTHER_HTTP_METHOD, Metrics, build_registry

# On, just under, just over and far past bucket bounds, and a zero.
AMOUNTS = (0.0, 0.004, 0.005, 0.0051, 0.1, 0.75, 9.99, 10.0, 10.01, 3600.0)
LABELS = (("GET", "/img/:sig/:opts/*", "200"), ("POST", "/api/jobs", "202"))


def _exposition(registry: CollectorRegistry) -> list[str]:
    """Sample lines in a stable order, ``_created`` values blanked (they are clocks)."""
    text = generate_latest(registry).decode()
    text = re.sub(r"(_created\{[^}]*\}) \S+", r"\1 T", text)
    return sorted(text.splitlines())


def _record(counter: Counter | LoopCounter, histogram: Histogram | LoopHistogram) -> None:
    for labels in LABELS:
        for amount in AMOUNTS:
            counter.labels(*labels).inc()
            histogram.labels(*labels).observe(amount)
    counter.labels(*LABELS[0]).inc(2.5)


def test_renders_exactly_as_prometheus_client() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    names = ("method", "route", "status")
    _record(
        Counter("x_requests_total", "Requests.", names, registry=theirs),
        Histogram("x_duration_seconds", "Duration.", names, registry=theirs),
    )
    _record(
        LoopCounter("x_requests_total", "Requests.", names, registry=ours),
        LoopHistogram("x_duration_seconds", "Duration.", names, registry=ours),
    )
    assert _exposition(ours) == _exposition(theirs)


def test_families_without_samples_still_render_help_and_type() -> None:
    registry = CollectorRegistry()
    LoopCounter("y_total", "Y.", ("a",), registry=registry)
    LoopHistogram("z_seconds", "Z.", ("a",), registry=registry)
    assert _exposition(registry) == sorted(
        [
            "# HELP y_total Y.",
            "# TYPE y_total counter",
            "# HELP z_seconds Z.",
            "# TYPE z_seconds histogram",
        ]
    )


def test_a_name_cannot_be_registered_twice() -> None:
    registry = CollectorRegistry()
    LoopCounter("dup_total", "Dup.", ("a",), registry=registry)
    with pytest.raises(ValueError, match="Duplicated"):
        Counter("dup_total", "Dup.", ("a",), registry=registry)


def test_label_count_is_checked() -> None:
    counter = LoopCounter("c_total", "C.", ("a", "b"), registry=CollectorRegistry())
    with pytest.raises(ValueError, match="takes labels"):
        counter.labels("only-one")


def test_buckets_must_increase() -> None:
    with pytest.raises(ValueError, match="increasing"):
        LoopHistogram("h", "H.", (), registry=CollectorRegistry(), buckets=(1.0, 0.5))


def test_made_up_methods_share_one_label() -> None:
    metrics = Metrics(build_registry(process_collectors=False))
    for method in ("GET", "BREW", "WHEN", "PROPFIND"):
        metrics.observe_http_request(method, "/healthz", 405, 0.001)
    registry = metrics.registry
    labels = {"route": "/healthz", "status": "405"}
    count = "vylux_http_requests_total"
    assert registry.get_sample_value(count, {"method": "GET", **labels}) == 1
    assert registry.get_sample_value(count, {"method": OTHER_HTTP_METHOD, **labels}) == 3
    assert registry.get_sample_value(count, {"method": "BREW", **labels}) is None
