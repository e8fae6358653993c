"""The retention job: each site's events older than its retention leave the warehouse.

With billing on, the organisation's plan decides (Free 6 months, Pro and Team 2 years, counted
in calendar months back from today, midnight UTC); the plan counted is the best one the
organisation had in the last `RETENTION_GRACE`, so a plan that lapsed yesterday (or a renewal
whose webhook is still on its way) never costs a customer 18 months of data. With billing off the
product is free and unlimited: `retention_days` applies to every site, and 0 (the default)
keeps everything. How rows go (whole months or deletes, cluster mode) is
`traytic.warehouse.retention`'s business. Runs in the billing service every
`retention_interval_s`, or once with `python -m traytic.billing.retention`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.billing import plans
from traytic.billing.entitlement import states
from traytic.billing.repository import list_site_plans, subscriptions_by_organisation
from traytic.billing.settings import BillingSettings
from traytic.core.periodic import every
from traytic.db import Database
from traytic.warehouse import Warehouse
from traytic.warehouse.retention import TableRetention, enforce_retention

log = structlog.get_logger()

RETENTION_GRACE = timedelta(days=30)


def months_before(moment: datetime, months: int) -> datetime:
    """Midnight UTC of the same day `months` calendar months earlier (the 31st of a shorter
    month becomes its last day)."""
    moment = moment.astimezone(UTC)
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    last_day = (following - timedelta(days=1)).day
    return datetime(year, month, min(moment.day, last_day), tzinfo=UTC)


def days_before(moment: datetime, days: int) -> datetime:
    """Midnight UTC, `days` days before `moment`'s day."""
    day = moment.astimezone(UTC).date() - timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def retention_plan(
    stored_plan: str, subscriptions: list[plans.SubscriptionState], now: datetime
) -> str:
    """The most generous of the stored plan, what the subscriptions grant now, and the plan of
    any subscription whose period reached into the grace window, whatever its status now
    (keeping data longer is the safe mistake; deleting it cannot be undone)."""
    candidates = [stored_plan, plans.effective_plan(subscriptions, now)]
    since = now - RETENTION_GRACE
    candidates += [
        s.plan
        for s in subscriptions
        if s.current_period_end is not None and s.current_period_end >= since
    ]
    return max(candidates, key=lambda plan: plans.RANK.get(plan, 0))


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Unix seconds per site before which its events go; `default` for sites not listed."""

    by_site: dict[str, int]
    default: int | None = None


async def decide_cutoffs(
    session: AsyncSession, settings: BillingSettings, now: datetime
) -> Cutoffs | None:
    """The cutoffs to enforce now, or None when nothing is to be deleted."""
    sites = await list_site_plans(session)
    if not settings.enabled:
        if settings.retention_days <= 0:
            return None
        cutoff = int(days_before(now, settings.retention_days).timestamp())
        return Cutoffs({site.site_id: cutoff for site in sites}, default=cutoff)
    subscriptions = await subscriptions_by_organisation(session)
    by_site: dict[str, int] = {}
    for site in sites:
        plan = retention_plan(site.plan, states(subscriptions.get(site.organisation_id, [])), now)
        months = plans.RULES[plan].retention_months
        by_site[site.site_id] = int(months_before(now, months).timestamp())
    # Sites unknown to the database keep their events: nothing says whose they are.
    return Cutoffs(by_site)


class RetentionJob:
    """Decides cutoffs from the database and applies them to the warehouse."""

    def __init__(
        self,
        db: Database,
        warehouse: Warehouse,
        settings: BillingSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.warehouse = warehouse
        self.settings = settings
        self.clock = clock

    async def run_once(self) -> list[TableRetention]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        async with self.db.session() as session:
            cutoffs = await decide_cutoffs(session, self.settings, now)
        if cutoffs is None:
            log.info("retention_skipped", reason="billing off and retention_days = 0")
            return []
        reports = await enforce_retention(
            self.warehouse, cutoffs.by_site, default_cutoff=cutoffs.default
        )
        log.info(
            "retention_done",
            sites=len(cutoffs.by_site),
            partitions_dropped=sum(len(r.dropped_months) for r in reports),
            rows_dropped=sum(r.dropped_rows for r in reports),
            rows_deleted=sum(r.deleted_rows for r in reports),
        )
        return reports

    async def run(self, interval_s: float, stop: asyncio.Event | None = None) -> None:
        """A run at start, then one every `interval_s` until `stop` is set or cancelled."""
        await every(interval_s, stop or asyncio.Event(), self.run_once, failure="retention_failed")


async def main() -> int:
    """`python -m traytic.billing.retention`: one run with the environment's settings."""
    from traytic.billing.settings import load_billing_settings
    from traytic.core.logging import configure_logging
    from traytic.core.settings import load_settings
    from traytic.warehouse import WarehouseSettings, open_warehouse

    settings, db_settings = load_billing_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = Database.from_settings(db_settings)
    warehouse = open_warehouse(load_settings(WarehouseSettings))
    try:
        await RetentionJob(db, warehouse, settings).run_once()
    finally:
        await warehouse.close()
        await db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
