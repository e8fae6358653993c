"""`Stats`: the stats answers over a `Warehouse`. It runs the statements `plan.py` chooses
(`raw.py` over the events, `rollups.py` over the rollups and visits) and shapes their rows:
ratios (`measures.py`), previous periods, empty buckets filled in."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from traytic.warehouse.base import Warehouse
from traytic.warehouse.sql import Statement
from traytic.warehouse.stats import (
    engagement,
    event_rollups,
    imported,
    plan,
    raw,
    rollups,
    sampling,
)
from traytic.warehouse.stats.filters import TRAFFIC
from traytic.warehouse.stats.grouping import (
    DEVICE_DIMENSIONS,
    GEO_DIMENSIONS,
    PAGE_DIMENSION,
    SOURCE_DIMENSIONS,
    Dimension,
)
from traytic.warehouse.stats.measures import period_figures, ratio
from traytic.warehouse.stats.params import MAX_LIMIT, StatsQuery, local_midnight
from traytic.warehouse.stats.reading import ReadingStats, stats_range
from traytic.warehouse.stats.results import (
    Bucket,
    Countries,
    Devices,
    EventName,
    Events,
    Live,
    LiveEvent,
    Metric,
    Overview,
    Pages,
    PropValue,
    Row,
    SessionPage,
    Sources,
    Timeseries,
    Vital,
    Vitals,
)

VITAL_THRESHOLDS: dict[str, tuple[float, float]] = {
    "LCP": (2500.0, 4000.0),
    "INP": (200.0, 500.0),
    "CLS": (0.1, 0.25),
    "FCP": (1800.0, 3000.0),
    "TTFB": (800.0, 1800.0),
}
"""web.dev: good up to the first value (included), poor above the second; ms except CLS. The
view of migration 0004 counts ratings with the same bounds (a test holds them equal)."""
NO_MATCH = ("\x00", "", "")
"""A pick no row has: a list of one pick would bind as a bare tuple, not a list of one."""


_range = stats_range


def bucket_starts(query: StatsQuery) -> list[tuple[int | date, datetime]]:
    """Every bucket of the range as (the key the SQL groups by, its first instant, UTC)."""
    if query.interval == "hour":
        count = int((query.end - query.start).total_seconds() // 3600)
        starts = [query.start + timedelta(hours=n) for n in range(count)]
        return [(int(start.timestamp()), start) for start in starts]
    zone = query.zone
    first = query.start.astimezone(zone).date()
    last = (query.end - timedelta(microseconds=1)).astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [(day, max(local_midnight(day, zone), query.start)) for day in days]


class Stats(ReadingStats):
    """Read-only stats of one warehouse; every method takes a validated `StatsQuery`."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.imports = imported.ImportedFigures(warehouse)

    async def _sampled(self, query: StatsQuery, *, visits: bool = False) -> StatsQuery:
        """`query` with the share of visitors its large reads sample: the raw events, which
        filtered reports read at length, and the `sessions` table, which reports with `visits`
        (visits, bounces, entry and exit pages) read whole otherwise (see `sampling`)."""
        if query.sample_above is None or query.sample is not None:
            return query
        if not query.filters.any and not visits:
            return query
        if not await self.warehouse.can_sample():
            return replace(query, sample=1.0)
        estimates = sampling.estimates_of(self.warehouse)
        events = estimates.get(query)
        if events is None:
            [row] = await self._rows(sampling.estimate(query))
            events = int(row["n"] or 0)
            estimates.put(query, events)
        found = sampling.rate(events, query.sample_above)
        return replace(query, sample=found or 1.0)

    async def _rollup_days(
        self, query: StatsQuery, types: tuple[str, ...]
    ) -> tuple[date, date] | None:
        """`plan.rollup_days`, through the range's last UTC day when no row of `types` lies on
        it past the range's end: that day's rollup rows then hold exactly the range's part of
        it, which is read from `events` otherwise (23 hours of them for Europe/Berlin)."""
        days = plan.rollup_days(query)
        last = plan.end_day(query)
        if days is None or last is None or await self._rows(rollups.rows_after_end(query, types)):
            return days
        return days[0], last + timedelta(days=1)

    async def _traffic_and_visits(
        self,
        query: StatsQuery,
        key: str,
        *,
        raw_traffic: Callable[[StatsQuery], Statement],
        rolled_traffic: Callable[[StatsQuery, str], Statement],
        raw_visits: Callable[[StatsQuery], Statement],
        table_visits: Callable[[StatsQuery], Statement],
    ) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]:
        """Traffic and visit figures by `key`, each read where the plan allows."""
        grain = plan.traffic_grain(query)
        traffic = rolled_traffic(query, grain) if grain is not None else raw_traffic(query)
        visits = table_visits(query) if plan.visits_from_sessions(query) else raw_visits(query)
        traffic_rows, visit_rows = await self._all(traffic, visits)
        return {row[key]: row for row in traffic_rows}, {row[key]: row for row in visit_rows}

    async def overview(self, query: StatsQuery) -> Overview:
        query = await self._sampled(query, visits=True)
        (traffic, sessions), engaged_rows = await asyncio.gather(
            self._traffic_and_visits(
                query,
                "is_current",
                raw_traffic=raw.overview_traffic,
                rolled_traffic=rollups.overview_traffic,
                raw_visits=raw.overview_sessions,
                table_visits=rollups.overview_sessions,
            ),
            self._rows(engagement.engaged_time(query)),
        )
        engaged = {row["is_current"]: int(row["engaged"]) / 1000 for row in engaged_rows}
        # Engaged time is the tracker's own measure: per native visit, imports have none.
        native_visits = {key: int(sessions.get(key, {}).get("visits", 0)) for key in (0, 1)}
        previous = query.previous()
        current_rows = (traffic.get(1, {}), sessions.get(1, {}))
        previous_rows = (traffic.get(0, {}), sessions.get(0, {}))
        if imported.applies(query):
            daily = await self.imports.daily_totals(query, query, previous)
            current_rows = imported.added(*current_rows, imported.period_sum(daily, query))
            previous_rows = imported.added(*previous_rows, imported.period_sum(daily, previous))
        now = period_figures(*current_rows)
        before = period_figures(*previous_rows)
        return Overview(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            previous_range=_range(previous.start, previous.end, query),
            imports_included=_note(query),
            **{name: Metric(value=now[name], previous=before[name]) for name in now},
            engaged_time=Metric(
                value=ratio(engaged.get(1, 0.0), native_visits[1]),
                previous=ratio(engaged.get(0, 0.0), native_visits[0]),
            ),
        )

    async def timeseries(self, query: StatsQuery) -> Timeseries:
        query = await self._sampled(query, visits=True)
        traffic, sessions = await self._traffic_and_visits(
            query,
            "bucket",
            raw_traffic=raw.timeseries_traffic,
            rolled_traffic=rollups.timeseries_traffic,
            raw_visits=raw.timeseries_sessions,
            table_visits=rollups.timeseries_sessions,
        )
        zone = query.zone
        daily: dict[Any, dict[str, int]] = {}
        if imported.applies(query) and query.interval == "day":
            daily = await self.imports.daily_totals(query, query)
        buckets = []
        for key, start in bucket_starts(query):
            rows = (traffic.get(key, {}), sessions.get(key, {}))
            if key in daily:
                rows = imported.added(*rows, daily[key])
            figures = period_figures(*rows)
            buckets.append(
                Bucket(
                    start=start.astimezone(zone),
                    visitors=int(figures["visitors"]),
                    visits=int(figures["visits"]),
                    pageviews=int(figures["pageviews"]),
                    views_per_visit=figures["views_per_visit"],
                    bounce_rate=figures["bounce_rate"],
                    visit_duration=figures["visit_duration"],
                    events=int(figures["events"]),
                )
            )
        return Timeseries(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            interval=query.interval,
            buckets=buckets,
            imports_included=_note(query),
        )

    async def breakdowns(
        self,
        query: StatsQuery,
        dimensions: Mapping[str, Dimension],
        *,
        types: tuple[str, ...] = TRAFFIC,
    ) -> dict[str, list[Row]]:
        """The top values of each dimension, imported figures added when asked: then the
        native top `MAX_LIMIT` values are merged with the imported ones and ranked again."""
        if not imported.applies(query):
            return await self._breakdowns(query, dimensions, types=types)
        native_query = dataclasses.replace(query, limit=MAX_LIMIT, page=1)
        native, *extra = await asyncio.gather(
            self._breakdowns(native_query, dimensions, types=types),
            *(self.imports.values(query, dim.column) for dim in dimensions.values()),
        )
        found: dict[str, list[Row]] = {}
        for (name, dimension), rows in zip(dimensions.items(), extra, strict=True):
            merged = {(row.value, row.parent or ""): row for row in native[name]}
            for row in rows:
                if dimension.skip_empty and not row["value"]:
                    continue
                key = (row["value"], row["parent"] if dimension.parent else "")
                before = merged.get(key) or Row(
                    value=key[0], parent=key[1] if dimension.parent else None,
                    visitors=0, visits=0, pageviews=0,
                )  # fmt: skip
                merged[key] = msgspec.structs.replace(
                    before,
                    visitors=before.visitors + int(row["visitors"]),
                    visits=before.visits + int(row["visits"]),
                    pageviews=before.pageviews + int(row["pageviews"]),
                )
            ranked = sorted(
                merged.values(),
                key=lambda r: (-r.visitors, -r.pageviews, r.value, r.parent or ""),
            )
            found[name] = ranked[query.offset : query.offset + query.limit]
        return found

    async def _breakdowns(
        self,
        query: StatsQuery,
        dimensions: Mapping[str, Dimension],
        *,
        types: tuple[str, ...] = TRAFFIC,
    ) -> dict[str, list[Row]]:
        """The top values of each dimension: from the rollups in two statements for all of
        them when the plan allows, else one raw statement per dimension."""
        query = await self._sampled(query)
        days = await self._rollup_days(query, types)
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if days is None:
            answers = await self._all(
                *(raw.breakdown(query, dim, types=types) for dim in dimensions.values())
            )
            for dim, rows in zip(dimensions.values(), answers, strict=True):
                found[dim.column] = rows
        else:
            listed = list(dimensions.values())
            limit = plan.candidates(query)
            candidates = await self._rows(
                rollups.breakdown_candidates(query, listed, days, types, limit)
            )
            # A dimension with fewer values than candidates has all of them in: no cut.
            counts = Counter(row["dimension"] for row in candidates)
            picks = tuple(
                (row["dimension"], row["value"], row["parent"])
                for row in candidates
                if counts[row["dimension"]] >= limit
            )
            rows = await self._rows(rollups.breakdown(query, listed, days, types, picks or None))
            for row in rows:
                found[row["dimension"]].append(row)
            for column, ranked in found.items():
                found[column] = ranked[query.offset :]
        return {
            name: [
                Row(
                    value=row["value"],
                    parent=row["parent"] if dimension.parent else None,
                    visitors=int(row["visitors"]),
                    visits=int(row["visits"]),
                    pageviews=int(row["pageviews"]),
                )
                for row in found.get(dimension.column, [])
            ]
            for name, dimension in dimensions.items()
        }

    async def _session_pages(self, query: StatsQuery, *, exit: bool) -> list[SessionPage]:
        """Entry or exit pages; with imported figures, the native top `MAX_LIMIT` merged with
        the imported ones and ranked again."""
        wanted = dataclasses.replace(query, limit=MAX_LIMIT, page=1)
        adding = imported.applies(query)
        if not adding:
            wanted = query
        if plan.visits_from_sessions(wanted):
            statement = rollups.session_pages(wanted, exit=exit)
        else:
            statement = raw.session_pages(wanted, exit=exit)
        totals: dict[str, list[int]] = {}
        for row in await self._rows(statement):
            totals[row["value"]] = [int(row["visitors"]), int(row["visits"])]
        if not adding:
            return [SessionPage(value=v, visitors=t[0], visits=t[1]) for v, t in totals.items()]
        for row in await self.imports.values(query, "exit_page" if exit else "entry_page"):
            found = totals.setdefault(row["value"], [0, 0])
            found[0] += int(row["visitors"])
            found[1] += int(row["visits"])
        ranked = sorted(totals.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))
        return [
            SessionPage(value=value, visitors=figures[0], visits=figures[1])
            for value, figures in ranked[query.offset : query.offset + query.limit]
        ]

    async def pages(self, query: StatsQuery) -> Pages:
        query = await self._sampled(query, visits=True)
        pages, entry, exit_ = await asyncio.gather(
            self.breakdowns(query, {"pages": PAGE_DIMENSION}, types=("pageview",)),
            self._session_pages(query, exit=False),
            self._session_pages(query, exit=True),
        )
        listed = pages["pages"]
        if listed:
            statement = engagement.page_engagement(query, tuple(row.value for row in listed))
            read = {row["value"]: row for row in await self._rows(statement)}
            for row in listed:
                if row.value in read:
                    row.time_on_page = float(read[row.value]["time_on_page"])
                    row.scroll_depth = float(read[row.value]["scroll_depth"])
        return Pages(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            pages=listed,
            entry_pages=entry,
            exit_pages=exit_,
            imports_included=_note(query),
        )

    async def sources(self, query: StatsQuery) -> Sources:
        query = await self._sampled(query)
        found = await self.breakdowns(query, SOURCE_DIMENSIONS)
        return Sources(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            imports_included=_note(query),
            **found,
        )

    async def countries(self, query: StatsQuery) -> Countries:
        query = await self._sampled(query)
        found = await self.breakdowns(query, GEO_DIMENSIONS)
        return Countries(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            imports_included=_note(query),
            **found,
        )

    async def devices(self, query: StatsQuery) -> Devices:
        query = await self._sampled(query)
        found = await self.breakdowns(query, DEVICE_DIMENSIONS)
        return Devices(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            imports_included=_note(query),
            **found,
        )

    async def vitals(self, query: StatsQuery) -> Vitals:
        query = await self._sampled(query)
        overall_rows, route_rows = await self._vital_rows(query)
        overall = [_vital(row, False) for row in overall_rows]
        routes = [_vital(row, True) for row in route_rows]
        return Vitals(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            overall=overall,
            routes=routes,
        )

    async def _vital_rows(
        self, query: StatsQuery
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """From `event_stats` when the plan allows and a metric has more samples than the raw
        quantiles hold exactly; else from the events."""
        days = await self._rollup_days(query, ("vital",))
        if days is not None:
            overall = await self._rows(event_rollups.vitals(query, days, VITAL_THRESHOLDS))
            if max((int(row["samples"]) for row in overall), default=0) > plan.VITALS_EXACT_UP_TO:
                candidates = await self._rows(
                    event_rollups.vital_route_candidates(query, days, VITAL_THRESHOLDS)
                )
                picks = (*((row["metric"], row["route"]) for row in candidates), NO_MATCH[:2])
                routes = await self._rows(
                    event_rollups.vitals(query, days, VITAL_THRESHOLDS, picks)
                )
                return overall, routes
        overall_rows, route_rows = await self._all(
            raw.vitals(query, VITAL_THRESHOLDS, per_route=False),
            raw.vitals(query, VITAL_THRESHOLDS, per_route=True),
        )
        return overall_rows, route_rows

    async def live(self, query: StatsQuery, now: datetime | None = None) -> Live:
        """Visitors of the last five minutes and the latest `limit` events (never cached)."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        counted, latest = await self._all(
            raw.live_visitors(query, now), raw.latest_events(query, now)
        )
        zone = query.zone
        return Live(
            visitors=int(counted[0]["visitors"]) if counted else 0,
            since=(now - raw.LIVE_WINDOW).astimezone(zone),
            events=[
                LiveEvent(
                    ts=row["ts"].astimezone(zone),
                    type=row["type"],
                    name=row["name"],
                    pathname=row["pathname"],
                    source=row["referrer_source"],
                    country=row["country"],
                    city=row["city"],
                    device=row["device"],
                    browser=row["browser"],
                    os=row["os"],
                )
                for row in latest
            ],
        )

    async def recent_visitors(self, site_id: str, now: datetime | None = None) -> dict[str, int]:
        """The visitors of the last five minutes (as `live` counts them, up to
        `raw.RECENT_VISITORS_LIMIT`): `visitorId` as live events carry it (16 hex
        digits) → last seen, unix seconds. Never cached."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        rows = await self._rows(raw.recent_visitors(site_id, now))
        return {f"{int(row['visitor_id']):016x}": int(row["last_seen"].timestamp()) for row in rows}

    async def events(self, query: StatsQuery) -> Events:
        query = await self._sampled(query)
        names, prop_rows = await self._event_rows(query)
        props: dict[str, list[PropValue]] = {}
        for row in prop_rows:
            props.setdefault(row["name"], []).append(
                PropValue(
                    key=row["prop_key"],
                    value=row["prop_value"],
                    events=int(row["events"]),
                    visitors=int(row["visitors"]),
                )
            )
        return Events(
            range=_range(query.start, query.end, query),
            sampled=sampling.share(query),
            events=[
                EventName(
                    name=row["name"],
                    events=int(row["events"]),
                    visitors=int(row["visitors"]),
                    props=props.get(row["name"], []),
                )
                for row in names
            ],
        )

    async def _event_rows(
        self, query: StatsQuery
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Event names and their props: from `event_stats` when the plan allows."""
        days = await self._rollup_days(query, ("event",))
        if days is None:
            names = await self._rows(raw.event_names(query))
            if not names:
                return names, []
            wanted = tuple(row["name"] for row in names)
            return names, await self._rows(raw.event_props(query, wanted))
        names = await self._rows(event_rollups.event_names(query, days, VITAL_THRESHOLDS))
        if not names:
            return names, []
        wanted = tuple(row["name"] for row in names)
        candidates = await self._rows(event_rollups.props(query, days, VITAL_THRESHOLDS, wanted))
        if not candidates:
            return names, []
        picks = (
            *((row["name"], row["prop_key"], row["prop_value"]) for row in candidates),
            NO_MATCH,
        )
        props = event_rollups.props(query, days, VITAL_THRESHOLDS, wanted, picks)
        return names, await self._rows(props)


def _note(query: StatsQuery) -> bool | None:
    """`imports_included` of an answer, when imported figures were asked for."""
    return imported.applies(query) if query.imported else None


def _vital(row: Mapping[str, Any], per_route: bool) -> Vital:
    samples = int(row["samples"])
    good, poor = int(row["good"]), int(row["poor"])
    p75, p95 = row["q"]
    return Vital(
        metric=row["metric"],
        route=row["route"] if per_route else None,
        p75=float(p75),
        p95=float(p95),
        samples=samples,
        good=ratio(good, samples),
        needs_improvement=ratio(samples - good - poor, samples),
        poor=ratio(poor, samples),
    )
