"""Prometheus metrics shared by every service: the registry, collectors, request counts
(served by `traytic.http.metrics`'s `GET /metrics`).

Services keep plain integer counters on their hot paths and expose them through collectors read
at scrape time; each service registers its collectors into the registry it is given (by
default the process-wide one), so `traytic dev`, where every service shares one app, serves
them all from one `/metrics`.
"""

from __future__ import annotations

import contextlib
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "REGISTRY",
    "CallbackCollector",
    "CollectorRegistry",
    "HttpRequestCounts",
    "counter",
    "gauge",
    "http_requests",
    "labelled_counter",
    "registered",
]


class _Replicas:
    """One service's collectors in a registry, merged: several instances of a service in one
    process (replicas in tests, a reload) add up instead of colliding."""

    def __init__(self) -> None:
        self.members: list[Collector] = []

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for member in list(self.members):
            for family in member.collect():
                if family.name not in families:
                    families[family.name] = Metric(
                        family.name, family.documentation, family.type, family.unit
                    )
                    values[family.name] = {}
                merged = values[family.name]
                for found in family.samples:
                    key = (found.name, tuple(sorted(found.labels.items())))
                    if key not in merged:
                        merged[key] = found.value
                    elif found.name.endswith("_created"):  # a timestamp: the oldest holds
                        merged[key] = min(merged[key], found.value)
                    else:
                        merged[key] += found.value
        for name, family in families.items():
            for (sample_name, labels), value in values[name].items():
                family.add_sample(sample_name, dict(labels), value)
            yield family


_REPLICAS: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, _Replicas]] = (
    weakref.WeakKeyDictionary()
)


@contextlib.contextmanager
def registered(registry: CollectorRegistry, service: str, collector: Collector) -> Iterator[None]:
    """Expose `collector` in `registry` for the life of a service (its lifespan)."""
    by_service = _REPLICAS.setdefault(registry, {})
    replicas = by_service.get(service)
    if replicas is None:
        replicas = by_service[service] = _Replicas()
        registry.register(replicas)
    replicas.members.append(collector)
    try:
        yield
    finally:
        replicas.members.remove(collector)


def counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def labelled_counter(
    name: str, documentation: str, label: str, values: Iterable[tuple[str, float]]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, value in values:
        family.add_metric([key], value)
    return family


class CallbackCollector:
    """A collector whose `collect()` is a function: for metric families built at scrape time."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return self._collect()


class HttpRequestCounts:
    """HTTP requests answered, by service, method, route template and status.

    One per registry (`http_requests()`), shared by the services mounted in an app, so the
    metric family appears once however many services count into it.
    """

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str]] = Counter()

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "traytic_http_requests",
            "HTTP requests answered, by service, method, route template and status.",
            labels=["service", "method", "route", "status"],
        )
        for labels, value in sorted(self.counts.items()):
            family.add_metric(list(labels), value)
        yield family


_HTTP_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, HttpRequestCounts] = (
    weakref.WeakKeyDictionary()
)


def http_requests(registry: CollectorRegistry = REGISTRY) -> HttpRequestCounts:
    """The registry's request counts, registered into it on first use."""
    counts = _HTTP_BY_REGISTRY.get(registry)
    if counts is None:
        counts = _HTTP_BY_REGISTRY[registry] = HttpRequestCounts()
        registry.register(counts)
    return counts
