"""Metrics fixtures: a fresh registry per test, scraping an app's metrics port (and checking
its public port has no `/metrics`), and reading one sample out of a scrape."""

from __future__ import annotations

from typing import Any

import httpx
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


async def scrape(client: Any, app: Any = None) -> str:
    """`GET /metrics` on the metrics port of the app `client` talks to (`client.app` unless
    given); the public port (the client's) answers 404 for the same path."""
    assert (await client.get("/metrics")).status_code == 404
    port = (app or client.app).state.metrics_port
    assert port, "the app serves no metrics port"
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text
