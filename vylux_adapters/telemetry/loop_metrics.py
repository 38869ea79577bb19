"""Counter and histogram families for the event loop's own, per-request use.

prometheus_client takes a lock and re-checks the metric on every ``inc``/``observe``,
four of them on a cached ``/img`` answer: a visible share of the application's time
per request. The HTTP middleware updates its metrics from the event loop thread
only, so plain attribute arithmetic is enough there; a scrape reads the values as
they are (a scrape racing an update may see one request in the count and not yet in
a bucket, as with any unsynchronised reader, and the next scrape is consistent
again).

The families render exactly as prometheus_client's ``Counter`` and ``Histogram``
do — same names, ``_total``/``_bucket``/``_count``/``_sum``/``_created`` samples —
so dashboards cannot tell them apart.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

# prometheus_client's default buckets (Prometheus' Go client has the same).
DEFAULT_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip

Clock = Callable[[], float]


class LoopCounterChild:
    __slots__ = ("created", "value")

    def __init__(self, created: float) -> None:
        self.value = 0.0
        self.created = created

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class LoopHistogramChild:
    __slots__ = ("_bounds", "buckets", "created", "sum")

    def __init__(self, bounds: tuple[float, ...], created: float) -> None:
        self._bounds = bounds
        self.buckets = [0] * len(bounds)  # per bucket, not cumulative
        self.sum = 0.0
        self.created = created

    def observe(self, amount: float) -> None:
        self.sum += amount
        # ``le`` buckets: the first bound at or above the amount; the last is +Inf.
        self.buckets[bisect_left(self._bounds, amount)] += 1


Child = TypeVar("Child", LoopCounterChild, LoopHistogramChild)


class _LoopFamily(Generic[Child]):
    """Children by label values, each made on first use."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        registry: CollectorRegistry,
        clock: Clock = time.time,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._clock = clock
        self._children: dict[tuple[str, ...], Child] = {}
        registry.register(self)

    def labels(self, *values: str) -> Child:
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
            child = self._children[values] = self._new_child(self._clock())
        return child

    def describe(self) -> list[Metric]:
        # Lets the registry refuse a second family of the same name at registration.
        return [self._empty()]

    def _snapshot(self) -> list[tuple[tuple[str, ...], Child]]:
        # list() copies in one step, so a scrape in another thread never iterates a
        # dict the loop is growing.
        return list(self._children.items())

    def collect(self) -> Iterator[Metric]:
        raise NotImplementedError

    def _new_child(self, created: float) -> Child:
        raise NotImplementedError

    def _empty(self) -> Metric:
        raise NotImplementedError


class LoopCounter(_LoopFamily[LoopCounterChild]):
    """A labelled counter; ``name`` ends in ``_total`` as with prometheus_client."""

    def _new_child(self, created: float) -> LoopCounterChild:
        return LoopCounterChild(created)

    def _empty(self) -> CounterMetricFamily:
        return CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = self._empty()
        for values, child in self._snapshot():
            family.add_metric(list(values), child.value, created=child.created)
        yield family


class LoopHistogram(_LoopFamily[LoopHistogramChild]):
    """A labelled histogram with ``buckets`` (+Inf added)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        registry: CollectorRegistry,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        clock: Clock = time.time,
    ) -> None:
        bounds = tuple(float(bound) for bound in buckets)
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"{name}: buckets must be increasing, got {buckets}")
        self._bounds = bounds if bounds[-1] == float("inf") else (*bounds, float("inf"))
        # The ``le`` texts prometheus_client writes ("0.005", "1.0", "+Inf").
        self._le = [str(floatToGoString(bound)) for bound in self._bounds]  # type: ignore[no-untyped-call]
        super().__init__(name, documentation, labelnames, registry=registry, clock=clock)

    def _new_child(self, created: float) -> LoopHistogramChild:
        return LoopHistogramChild(self._bounds, created)

    def _empty(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = self._empty()
        for values, child in self._snapshot():
            counts, total = list(child.buckets), child.sum
            cumulative, running = [], 0
            for le, count in zip(self._le, counts, strict=True):
                running += count
                cumulative.append((le, running))
            family.add_metric(list(values), cumulative, total)
            family.add_sample(
                self.name + "_created",
                dict(zip(self.labelnames, values, strict=True)),
                child.created,
            )
        yield family
