"""Quota flags: which sites' beacons the gateway drops because their organisation is over
its monthly events.

A round counts this month's events per site in the warehouse, sums them per organisation and
writes `quotas` KV flags (key = site id, value `QuotaFlag` JSON, `until` = month end) for every
site of a Free organisation over 10k events (plus `quota_grace`); every other key is deleted.
Paid plans are never flagged. A new month resets the count, so the first round of the month
clears last month's flags; the worker calls `refresh()` for an organisation whose plan it just
changed, so an upgrade is let through at once instead of at the next round.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import structlog
from nats.js.kv import KeyValue

from traytic.billing import plans
from traytic.billing.repository import SitePlan, list_site_plans
from traytic.billing.usage import count_events_by_site, month_bounds
from traytic.core import bus
from traytic.core.periodic import every
from traytic.db import Database
from traytic.warehouse import Warehouse

log = structlog.get_logger()


def over_quota_sites(
    sites: Iterable[SitePlan], events_by_site: Mapping[str, int], *, grace: float
) -> set[str]:
    """The sites of every organisation whose plan's quota its sites' events used up."""
    by_org: dict[uuid.UUID, list[SitePlan]] = defaultdict(list)
    for site in sites:
        by_org[site.organisation_id].append(site)
    flagged: set[str] = set()
    for org_sites in by_org.values():
        total = sum(events_by_site.get(s.site_id, 0) for s in org_sites)
        if plans.is_over_quota(org_sites[0].plan, total, grace=grace):
            flagged.update(s.site_id for s in org_sites)
    return flagged


@dataclass(frozen=True, slots=True)
class QuotaRound:
    flagged: frozenset[str]
    set: int
    cleared: int


class QuotaFlags:
    """Computes flags and writes them into the `quotas` bucket (`kv`, set once connected)."""

    def __init__(
        self,
        db: Database,
        warehouse: Warehouse,
        *,
        grace: float,
        clock: Callable[[], float],
    ) -> None:
        self.db = db
        self.warehouse = warehouse
        self.grace = grace
        self.clock = clock
        self.kv: KeyValue | None = None
        # One write at a time in this process: a round that read the old plan must not
        # re-flag an organisation that `refresh()` just cleared.
        self._lock = asyncio.Lock()

    async def sync_all(self) -> QuotaRound:
        """One round over every organisation; keys of sites that no longer exist go too."""
        async with self._lock:
            async with self.db.session() as session:
                sites = await list_site_plans(session)
            return await self._write(sites, drop_unknown=True)

    async def refresh(self, organisation_id: uuid.UUID) -> QuotaRound:
        """Recompute one organisation now (after its plan changed)."""
        async with self._lock:
            async with self.db.session() as session:
                sites = await list_site_plans(session, organisation_id)
            return await self._write(sites, drop_unknown=False)

    async def _write(self, sites: list[SitePlan], *, drop_unknown: bool) -> QuotaRound:
        kv = self.kv
        if kv is None:
            raise RuntimeError("the quotas bucket is not open yet")
        start, end = month_bounds(self.clock())
        # Only plans with a quota need counting: paid organisations are never flagged.
        limited = [s for s in sites if plans.RULES[s.plan].events_per_month is not None]
        counts = await count_events_by_site(
            self.warehouse, (s.site_id for s in limited), start, end
        )
        flagged = over_quota_sites(limited, counts, grace=self.grace)
        existing = await bus.kv_keys(kv)
        considered = {s.site_id for s in sites}
        if drop_unknown:
            considered |= existing
        value = bus.QUOTA_ENCODER.encode(bus.QuotaFlag(over_quota=True, until=float(end)))
        added = cleared = 0
        for site_id in sorted(considered):
            if site_id in flagged and site_id not in existing:
                await kv.put(site_id, value)
                added += 1
            elif site_id not in flagged and site_id in existing:
                await kv.delete(site_id)
                cleared += 1
        if added or cleared:
            log.info("quota_flags_written", flagged=added, cleared=cleared)
        return QuotaRound(frozenset(flagged), added, cleared)

    async def refresh_after_plan_change(self, organisation_id: uuid.UUID) -> None:
        """The worker's hook: recompute now, or leave it to the next round if NATS is away."""
        try:
            await self.refresh(organisation_id)
        except Exception as exc:
            log.warning(
                "quota_refresh_deferred",
                organisation_id=str(organisation_id),
                error=f"{type(exc).__name__}: {exc}",
            )

    async def run(
        self, bus_settings: bus.BusSettings, interval_s: float, stop: asyncio.Event | None = None
    ) -> None:
        """Connect (in the background: webhooks never wait for NATS), then a round every
        `interval_s` until `stop` is set or the task is cancelled."""
        stop = stop or asyncio.Event()
        nc = await bus.connect(bus_settings, name="traytic-billing")
        try:
            self.kv = await bus.ensure_quotas_bucket(nc.jetstream(), bus_settings)
            log.info("quota_flags_started", interval_s=interval_s)
            await every(interval_s, stop, self.sync_all, failure="quota_round_failed")
        finally:
            self.kv = None
            await bus.close(nc)
