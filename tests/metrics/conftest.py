"""Metrics fixtures: a fresh registry per test, and reading one sample out of a scrape."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample (`name` as exposed, e.g. with `_total`) in a text exposition."""
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    raise AssertionError(f"no sample {name} {labels} in the exposition")
