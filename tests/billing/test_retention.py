"""The retention job's billing side: cutoffs from each organisation's plan (with a grace after a
plan lapses), `TRAYTIC_RETENTION_DAYS` when billing is off, and the job in the service's
lifespan. Real database, both ClickHouse engines."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.billing.conftest import MakeMember, settings_for
from tests.billing.providers import PaystackStub, PolarStub
from tests.billing.test_quotas import add_sites
from tests.warehouse.test_retention import rows_at
from traytic.billing.app import create_app
from traytic.billing.plans import SubscriptionState
from traytic.billing.retention import RetentionJob, days_before, months_before, retention_plan
from traytic.billing.settings import BillingSettings
from traytic.core.clock import FakeClock
from traytic.db import Database, DbSettings
from traytic.db.repositories import billing as billing_rows
from traytic.db.repositories import organisations
from traytic.warehouse import Warehouse, WarehouseSettings
from traytic.warehouse.retention import wait_for_mutations

NOW = datetime(2026, 11, 15, 9, 30, tzinfo=UTC)


def day(moment: datetime) -> str:
    return moment.date().isoformat()


def test_cutoffs_count_calendar_months_and_days_back_to_midnight_utc() -> None:
    assert months_before(NOW, 6) == datetime(2026, 5, 15, tzinfo=UTC)
    assert months_before(NOW, 24) == datetime(2024, 11, 15, tzinfo=UTC)
    assert months_before(datetime(2026, 8, 31, 23, tzinfo=UTC), 6) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert months_before(datetime(2027, 1, 10, tzinfo=UTC), 1) == datetime(2026, 12, 10, tzinfo=UTC)
    assert days_before(NOW, 30) == datetime(2026, 10, 16, tzinfo=UTC)


def test_a_plan_that_lapsed_within_the_grace_keeps_its_retention() -> None:
    ended = SubscriptionState("team", "canceled", NOW - timedelta(days=3))
    long_ago = SubscriptionState("pro", "non-renewing", NOW - timedelta(days=90))
    assert retention_plan("free", [ended], NOW) == "team"
    assert retention_plan("free", [long_ago], NOW) == "free"
    assert retention_plan("pro", [], NOW) == "pro"  # set by hand
    assert retention_plan("free", [], NOW) == "free"


async def set_plan(db: Database, org_id: uuid.UUID, plan: str) -> None:
    async with db.session() as session:
        organisation = await organisations.get_organisation(session, org_id)
        assert organisation is not None
        await organisations.update_organisation(session, organisation, plan=plan)


async def stored(warehouse: Warehouse) -> set[tuple[str, str]]:
    result = await warehouse.query("SELECT site_id, toString(toDate(ts)) AS day FROM events")
    return {(row["site_id"], row["day"]) for row in result}


async def test_each_site_keeps_what_its_plan_allows(
    db: Database,
    make_member: MakeMember,
    warehouse: Warehouse,
    paystack: PaystackStub,
    polar: PolarStub,
) -> None:
    free, pro, lapsed = [await make_member() for _ in range(3)]
    [free_site] = await add_sites(db, free.org_id, 1)
    [pro_site] = await add_sites(db, pro.org_id, 1)
    [lapsed_site] = await add_sites(db, lapsed.org_id, 1)
    await set_plan(db, pro.org_id, "pro")
    async with db.session() as session:  # Pro until a week ago, Free since
        await billing_rows.upsert_subscription(
            session,
            lapsed.org_id,
            provider="polar",
            provider_subscription_id=str(uuid.uuid4()),
            plan="pro",
            status="canceled",
            currency="USD",
            amount=900,
            current_period_end=NOW - timedelta(days=7),
        )
    year_ago, month_ago = day(NOW - timedelta(days=365)), day(NOW - timedelta(days=30))
    three_years_ago = day(NOW - timedelta(days=3 * 365))
    await warehouse.insert_events(
        [
            *rows_at(free_site, three_years_ago, year_ago, month_ago),
            *rows_at(pro_site, three_years_ago, year_ago, month_ago),
            *rows_at(lapsed_site, year_ago, month_ago),
            *rows_at("st_not_in_the_database", three_years_ago),
        ]
    )
    job = RetentionJob(db, warehouse, settings_for(paystack, polar), clock=NOW.timestamp)
    report = events_report(await job.run_once())
    assert await wait_for_mutations(warehouse, timeout_s=30)
    assert await stored(warehouse) == {
        (free_site, month_ago),
        (pro_site, year_ago),
        (pro_site, month_ago),
        (lapsed_site, year_ago),
        (lapsed_site, month_ago),
        ("st_not_in_the_database", three_years_ago),
    }
    assert report.dropped_rows + report.deleted_rows == 3


async def test_with_billing_off_retention_days_applies_to_every_site(
    db: Database, make_member: MakeMember, warehouse: Warehouse
) -> None:
    member = await make_member()
    [site] = await add_sites(db, member.org_id, 1)
    old, recent = day(NOW - timedelta(days=400)), day(NOW - timedelta(days=10))
    await warehouse.insert_events([*rows_at(site, old, recent), *rows_at("st_gone", old)])
    forever = RetentionJob(db, warehouse, BillingSettings(), clock=NOW.timestamp)
    assert await forever.run_once() == []  # the default: keep everything
    assert len(await stored(warehouse)) == 3
    clock = FakeClock(NOW.timestamp())
    job = RetentionJob(db, warehouse, BillingSettings(retention_days=30), clock=clock.time)
    report = events_report(await job.run_once())
    assert await wait_for_mutations(warehouse, timeout_s=30)
    assert report.dropped_rows == 2
    assert await stored(warehouse) == {(site, recent)}


async def test_the_service_runs_the_job_even_with_billing_off(
    db: Database,
    database_url: str,
    warehouse: Warehouse,
    warehouse_settings: WarehouseSettings,
    make_member: MakeMember,
) -> None:
    member = await make_member()
    [site] = await add_sites(db, member.org_id, 1)
    now = datetime.fromtimestamp(time.time(), UTC)
    old, recent = day(now - timedelta(days=400)), day(now - timedelta(days=1))
    await warehouse.insert_events(rows_at(site, old, recent))
    settings = BillingSettings(migrate_on_start=False, retention_days=90)
    assert not settings.enabled
    server = warehouse_settings.clickhouse_url is not None
    app: Litestar = create_app(
        settings,
        DbSettings(database_url=database_url),
        warehouse_settings=warehouse_settings if server else None,
    )
    if not server:  # chDB: one per process, shared as a host shares it
        app.state.warehouse = warehouse
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/billing")).status_code == 404  # billing itself is off
        for _ in range(200):
            if await stored(warehouse) == {(site, recent)}:
                break
            await asyncio.sleep(0.05)
    assert await stored(warehouse) == {(site, recent)}


def events_report(reports: list[Any]) -> Any:
    """The `events` table's report (the rollups and visits are purged beside it)."""
    return next(report for report in reports if report.table == "events")
