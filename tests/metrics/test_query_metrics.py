"""The query service's `/metrics` (on its metrics port only): requests by route template and status, live streams open."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from tests.db.conftest import (  # noqa: F401 - fixtures, reused by name
    _empty_tables,
    database_url,
    dialect,
    postgres_available,
    postgresql_url,
    sqlite_url,
)
from tests.metrics.conftest import sample, scrape
from tests.query.conftest import (  # noqa: F401 - fixtures, reused by name
    clean_database,
    db_settings,
    fast_settings,
)
from tests.query.test_stream import SseStream, bearer, serving
from traytic.core import bus
from traytic.core.embedded_nats import free_port
from traytic.db import DbSettings
from traytic.query.app import create_app


async def test_requests_by_route_and_status_and_sse_clients(
    db_settings: DbSettings,  # noqa: F811
    bus_settings: bus.BusSettings,
    clean_database: None,  # noqa: F811
    registry: CollectorRegistry,
) -> None:
    settings = fast_settings(metrics_port=free_port())
    app = create_app(settings, db_settings, bus_settings, metrics_registry=registry)
    async with serving(app) as api:
        owner = await api.signup()
        site = await api.create_site(owner)
        key = (await api.create_key(owner))["key"]
        for _ in range(2):
            bad = await api.call("POST", "/api/auth/login", json={"email": owner.email})
            assert bad.status_code == 400
        stream = SseStream(app, f"/api/stream/{site['id']}", bearer(key))
        await stream.wait_for("retry:")
        during = await scrape(api.client, app)
        await stream.close()
        after = await scrape(api.client, app)

    def requests(text: str, method: str, route: str, status: str) -> float:
        labels = {"service": "query", "method": method, "route": route, "status": status}
        return sample(text, "traytic_http_requests_total", **labels)

    assert requests(after, "POST", "/api/auth/signup", "202") == 1
    assert requests(after, "POST", "/api/auth/signup/confirm", "201") == 1
    assert requests(after, "POST", "/api/auth/login", "400") == 2
    assert requests(after, "POST", "/api/orgs/{org_id}/sites", "201") == 1
    assert requests(after, "GET", "/api/stream/{site_id}", "200") == 1
    assert sample(during, "traytic_query_sse_clients") == 1
    assert sample(after, "traytic_query_sse_clients") == 0
