"""Usage from the warehouse and quota flags: counted per organisation over its sites within
the calendar month (UTC), flags written for Free organisations over 10k, the gateway dropping
their beacons, and an upgrade clearing the flag. Real database, warehouse (both engines) and
NATS."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from nats.js.errors import NoKeysError
from nats.js.kv import KeyValue

from tests.billing.conftest import MakeMember, polar_webhook, post, settings_for
from tests.billing.payloads import polar_subscription_event
from tests.billing.providers import PaystackStub, PolarStub
from traytic.billing.app import create_app as create_billing_app
from traytic.billing.quotas import QuotaFlags, over_quota_sites
from traytic.billing.repository import SitePlan
from traytic.billing.usage import WarehouseUsage, month_bounds
from traytic.core import bus
from traytic.core import sites as site_registry
from traytic.db import Database, DbSettings
from traytic.db.repositories import organisations, sites
from traytic.gateway.app import create_app as create_gateway_app
from traytic.gateway.settings import GatewaySettings
from traytic.warehouse import EventRow, Warehouse, WarehouseSettings

NOV_15 = datetime(2026, 11, 15, 12, tzinfo=UTC).timestamp()
NOV_START, DEC_START = month_bounds(NOV_15)


def rows(site_id: str, count: int, ts: int) -> list[EventRow]:
    # Every required text column empty; the columns with defaults (revenue, engagement...) keep
    # theirs, so a column added later needs nothing here.
    required = EventRow.__struct_fields__[
        : len(EventRow.__struct_fields__) - len(EventRow.__struct_defaults__)
    ]
    base: dict[str, Any] = {name: "" for name in required if name not in ("ts", "site_id")}
    base |= {"props_key": [], "props_value": [], "value": 0.0, "type": "pageview"}
    return [
        EventRow(
            **base | {"site_id": site_id, "ts": ts, "event_id": n, "visitor_id": n, "session_id": n}
        )
        for n in range(count)
    ]


async def add_sites(db: Database, org_id: uuid.UUID, count: int) -> list[str]:
    async with db.session() as session:
        return [
            (await sites.create_site(session, org_id, domain=f"s{uuid.uuid4().hex[:8]}.example")).id
            for _ in range(count)
        ]


async def until(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition() if asyncio.iscoroutinefunction(condition) else not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def flagged_keys(kv: KeyValue) -> set[str]:
    try:
        return set(await kv.keys())
    except NoKeysError:
        return set()


def test_month_bounds_are_utc_calendar_months() -> None:
    assert month_bounds(NOV_15) == (
        datetime(2026, 11, 1, tzinfo=UTC).timestamp(),
        datetime(2026, 12, 1, tzinfo=UTC).timestamp(),
    )
    december = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    assert month_bounds(december)[1] == datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    assert month_bounds(DEC_START) == (DEC_START, datetime(2027, 1, 1, tzinfo=UTC).timestamp())


def test_only_plans_with_a_quota_are_flagged_over_the_whole_organisation() -> None:
    free, pro, small = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    plans = [
        SitePlan("a1", free, "free"),
        SitePlan("a2", free, "free"),
        SitePlan("p1", pro, "pro"),
        SitePlan("s1", small, "free"),
    ]
    counts = {"a1": 6_000, "a2": 4_000, "p1": 1_000_000, "s1": 9_999}
    assert over_quota_sites(plans, counts, grace=0.0) == {"a1", "a2"}
    assert over_quota_sites(plans, counts, grace=0.1) == set()
    assert over_quota_sites(plans, counts | {"a2": 5_000}, grace=0.1) == {"a1", "a2"}


async def test_usage_counts_the_organisations_sites_within_the_month(
    db: Database, make_member: MakeMember, warehouse: Warehouse
) -> None:
    one, other, empty = [await make_member() for _ in range(3)]
    one_sites = await add_sites(db, one.org_id, 2)
    [other_site] = await add_sites(db, other.org_id, 1)
    async with db.session() as session:  # a deleted site's events this month still count
        await sites.soft_delete_site(session, one.org_id, one_sites[1])
    await warehouse.insert_events(
        [
            *rows(one_sites[0], 3, NOV_START),
            *rows(one_sites[1], 2, DEC_START - 1),
            *rows(one_sites[0], 4, NOV_START - 1),  # October
            *rows(one_sites[1], 5, DEC_START),  # December
            *rows(other_site, 7, int(NOV_15)),
            *rows("st_nobody", 11, int(NOV_15)),
        ]
    )
    usage = WarehouseUsage(warehouse, db, lambda: NOV_15)
    assert await usage.events_this_month(one.org_id) == 5
    assert await usage.events_this_month(other.org_id) == 7
    assert await usage.events_this_month(empty.org_id) == 0
    december = WarehouseUsage(warehouse, db, lambda: float(DEC_START))
    assert await december.events_this_month(one.org_id) == 5


async def test_flags_follow_usage_plan_and_month(
    db: Database,
    make_member: MakeMember,
    warehouse: Warehouse,
    nc: NatsClient,
    bus_settings: bus.BusSettings,
) -> None:
    free, pro = await make_member(), await make_member()
    free_sites = await add_sites(db, free.org_id, 2)
    [pro_site] = await add_sites(db, pro.org_id, 1)
    async with db.session() as session:
        organisation = await organisations.get_organisation(session, pro.org_id)
        assert organisation is not None
        await organisations.update_organisation(session, organisation, plan="pro")
    await warehouse.insert_events(
        [
            *rows(free_sites[0], 10_000, int(NOV_15)),
            *rows(free_sites[1], 1_000, int(NOV_15)),  # 11k: the quota and its 10 % grace
            *rows(pro_site, 20_000, int(NOV_15)),
        ]
    )
    now = [NOV_15]
    flags = QuotaFlags(db, warehouse, grace=0.1, clock=lambda: now[0])
    kv = flags.kv = await bus.ensure_quotas_bucket(nc.jetstream(), bus_settings)
    await kv.put("st_purged", b'{"overQuota": true, "until": 0}')

    first = await flags.sync_all()
    assert first.flagged == set(free_sites)
    assert await flagged_keys(kv) == set(free_sites)
    entry = await kv.get(free_sites[0])
    assert bus.QUOTA_DECODER.decode(entry.value or b"") == bus.QuotaFlag(
        over_quota=True, until=float(DEC_START)
    )
    assert (await flags.sync_all()).set == 0  # nothing rewritten when nothing changed

    now[0] = float(DEC_START)  # a new month: nothing counted yet
    assert (await flags.sync_all()).cleared == 2
    assert await flagged_keys(kv) == set()


async def test_free_organisation_over_quota_is_dropped_at_the_gateway_until_it_upgrades(
    db: Database,
    database_url: str,
    make_member: MakeMember,
    paystack: PaystackStub,
    polar: PolarStub,
    warehouse: Warehouse,
    warehouse_settings: WarehouseSettings,
    nc: NatsClient,
    bus_settings: bus.BusSettings,
) -> None:
    over, under, paid = [await make_member(country="US") for _ in range(3)]
    over_sites = await add_sites(db, over.org_id, 2)
    [under_site] = await add_sites(db, under.org_id, 1)
    [paid_site] = await add_sites(db, paid.org_id, 1)
    async with db.session() as session:
        organisation = await organisations.get_organisation(session, paid.org_id)
        assert organisation is not None
        await organisations.update_organisation(session, organisation, plan="team")
    registry = await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
    for site_id in (*over_sites, under_site, paid_site):
        await site_registry.create_site(registry, "example.com", site_id=site_id)
    this_month = month_bounds(time.time())[0] + 1
    await warehouse.insert_events(
        [
            *rows(over_sites[0], 6_000, this_month),
            *rows(over_sites[1], 4_000, this_month),
            *rows(under_site, 9_999, this_month),
            *rows(paid_site, 12_000, this_month),
        ]
    )
    settings = settings_for(
        paystack, polar, run_worker=True, quota_grace=0.0, quota_interval_s=3600.0
    )
    # The test client runs the app on its own event loop: the server backend's HTTP session
    # belongs to one loop, so the app opens its own; chDB (one per process) is shared, as a
    # host that mounts billing shares its warehouse.
    server = warehouse_settings.clickhouse_url is not None
    billing_app = create_billing_app(
        settings,
        DbSettings(database_url=database_url),
        bus_settings=bus_settings,
        warehouse_settings=warehouse_settings if server else None,
    )
    if not server:
        billing_app.state.warehouse = warehouse
    gateway_app = create_gateway_app(GatewaySettings(), bus_settings)
    async with (
        AsyncTestClient(billing_app) as billing,
        AsyncTestClient(gateway_app) as gateway,
    ):
        over_quota = gateway.app.state.gateway.over_quota
        stats = gateway.app.state.gateway.metrics
        await until(lambda: all(s in over_quota for s in over_sites))

        async def send(site_id: str) -> None:
            body = {
                "siteId": site_id,
                "events": [{"type": "pageview", "url": "https://example.com/"}],
            }
            response = await gateway.post("/collect", content=json.dumps(body))
            assert response.status_code == 204

        for site_id in (*over_sites, under_site, paid_site):
            await send(site_id)
        assert stats.rejected_by_reason["over_quota"] == 2
        assert stats.events_over_quota == 2
        assert stats.beacons_accepted == 2

        overview = (await billing.get("/api/billing", headers=over.headers())).json()
        assert overview["usage"] == {
            "eventsThisMonth": 10_000,
            "eventsLimit": 10_000,
            "overQuota": True,
        }
        under_view = (await billing.get("/api/billing", headers=under.headers())).json()
        assert under_view["usage"]["eventsThisMonth"] == 9_999
        assert under_view["usage"]["overQuota"] is False

        upgrade = polar_subscription_event(
            "subscription.active",
            status="active",
            org_id=str(over.org_id),
            period_end="2099-01-01T00:00:00Z",
        )
        response = await post(billing, "/webhooks/polar", polar_webhook(upgrade))
        assert response.status_code == 200
        await until(lambda: not any(s in over_quota for s in over_sites))
        await send(over_sites[0])
        assert stats.beacons_accepted == 3
        assert stats.rejected_by_reason["over_quota"] == 2
