"""Every report of a period, with the stats API's filters, as CSV files in a ZIP: the visitors
graph, top pages, entry and exit pages, sources, referrers, channels, UTM tags, places, devices,
custom events and their props, Web Vitals, engagement (time on page, outbound links, downloads,
404s), languages and errors. Each report is read and written in turn, and the
ZIP goes out as each file is added (no seeking: data descriptors), so memory holds one report.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from traytic.warehouse.exports.spool import Spool
from traytic.warehouse.stats import Stats, StatsQuery
from traytic.warehouse.stats.results import Row, SessionPage

Table = tuple[Sequence[str], Iterable[Sequence[Any]]]


def _rows(rows: Sequence[Row], name: str) -> Table:
    with_parent = any(row.parent for row in rows)
    header = [name, *(["parent"] if with_parent else []), "visitors", "visits", "pageviews"]
    return header, (
        [
            row.value,
            *([row.parent or ""] if with_parent else []),
            row.visitors,
            row.visits,
            row.pageviews,
        ]
        for row in rows
    )


def _session_pages(rows: Sequence[SessionPage], name: str) -> Table:
    return [name, "visitors", "visits"], ([r.value, r.visitors, r.visits] for r in rows)


async def _visitors(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    series = await stats.timeseries(query)
    header = ["date" if series.interval == "day" else "hour", "visitors", "visits", "pageviews",
              "views_per_visit", "bounce_rate", "visit_duration", "events"]  # fmt: skip
    return {
        "visitors.csv": (
            header,
            (
                [
                    b.start.date().isoformat() if series.interval == "day" else b.start.isoformat(),
                    b.visitors,
                    b.visits,
                    b.pageviews,
                    round(b.views_per_visit, 4),
                    round(b.bounce_rate, 4),
                    round(b.visit_duration),
                    b.events,
                ]
                for b in series.buckets
            ),
        )
    }


async def _pages(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    pages = await stats.pages(query)
    return {
        "pages.csv": _rows(pages.pages, "page"),
        "entry_pages.csv": _session_pages(pages.entry_pages, "entry_page"),
        "exit_pages.csv": _session_pages(pages.exit_pages, "exit_page"),
    }


async def _sources(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    found = await stats.sources(query)
    return {
        "sources.csv": _rows(found.sources, "source"),
        "referrers.csv": _rows(found.referrers, "referrer"),
        "channels.csv": _rows(found.channels, "channel"),
        "utm_sources.csv": _rows(found.utm_sources, "utm_source"),
        "utm_mediums.csv": _rows(found.utm_mediums, "utm_medium"),
        "utm_campaigns.csv": _rows(found.utm_campaigns, "utm_campaign"),
        "utm_terms.csv": _rows(found.utm_terms, "utm_term"),
        "utm_contents.csv": _rows(found.utm_contents, "utm_content"),
    }


async def _places(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    found = await stats.countries(query)
    return {
        "countries.csv": _rows(found.countries, "country"),
        "regions.csv": _rows(found.regions, "region"),
        "cities.csv": _rows(found.cities, "city"),
    }


async def _devices(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    found = await stats.devices(query)
    return {
        "devices.csv": _rows(found.devices, "device"),
        "browsers.csv": _rows(found.browsers, "browser"),
        "browser_versions.csv": _rows(found.browser_versions, "browser_version"),
        "operating_systems.csv": _rows(found.operating_systems, "operating_system"),
        "operating_system_versions.csv": _rows(found.os_versions, "operating_system_version"),
        "screen_sizes.csv": _rows(found.screens, "screen_size"),
    }


async def _events(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    found = await stats.events(query)
    return {
        "custom_events.csv": (
            ["name", "events", "visitors"],
            ([e.name, e.events, e.visitors] for e in found.events),
        ),
        "custom_props.csv": (
            ["name", "prop", "value", "events", "visitors"],
            ([e.name, p.key, p.value, p.events, p.visitors] for e in found.events for p in e.props),
        ),
    }


async def _vitals(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    found = await stats.vitals(query)
    header = ["metric", "route", "p75", "p95", "samples", "good", "needs_improvement", "poor"]
    rows = (
        [
            v.metric,
            v.route or "",
            v.p75,
            v.p95,
            v.samples,
            round(v.good, 4),
            round(v.needs_improvement, 4),
            round(v.poor, 4),
        ]
        for v in [*found.overall, *found.routes]
    )
    return {"vitals.csv": (header, rows)}


async def _engagement(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    found, languages = await asyncio.gather(stats.engagement(query), stats.languages(query))
    links = ["url", "events", "visitors"]
    return {
        "engagement.csv": (
            ["page", "views", "time_on_page", "scroll_depth"],
            (
                [p.value, p.views, round(p.time_on_page, 3), round(p.scroll_depth, 3)]
                for p in found.pages
            ),
        ),
        **{
            f"{kind}.csv": (links, [[r.value, r.events, r.visitors] for r in getattr(found, kind)])
            for kind in ("outbound_links", "downloads", "not_found")
        },
        "languages.csv": _rows(languages.languages, "language"),
    }


async def _errors(stats: Stats, query: StatsQuery) -> dict[str, Table]:
    found = await stats.errors(query)
    header = ["message", "page", "source", "errors", "visitors", "first_seen", "last_seen"]
    rows = (
        [
            e.message,
            e.page,
            e.source,
            e.errors,
            e.visitors,
            e.first_seen.isoformat(),
            e.last_seen.isoformat(),
        ]
        for e in found.errors
    )
    return {"errors.csv": (header, rows)}


READERS: tuple[Callable[[Stats, StatsQuery], Awaitable[dict[str, Table]]], ...] = (
    _visitors, _pages, _sources, _places, _devices, _events, _vitals, _engagement, _errors,
)  # fmt: skip
REPORT_FILES = (
    "visitors.csv", "pages.csv", "entry_pages.csv", "exit_pages.csv", "sources.csv",
    "referrers.csv", "channels.csv", "utm_sources.csv", "utm_mediums.csv", "utm_campaigns.csv",
    "utm_terms.csv", "utm_contents.csv", "countries.csv", "regions.csv", "cities.csv",
    "devices.csv", "browsers.csv", "browser_versions.csv", "operating_systems.csv",
    "operating_system_versions.csv", "screen_sizes.csv", "custom_events.csv", "custom_props.csv",
    "vitals.csv", "engagement.csv", "outbound_links.csv", "downloads.csv", "not_found.csv",
    "languages.csv", "errors.csv",
)  # fmt: skip
"""The files of the ZIP, in order."""


def _csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header, rows = table
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def reports_zip(stats: Stats, query: StatsQuery) -> AsyncIterator[bytes]:
    """The ZIP's bytes, sent as each report is added."""
    spool = Spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for read in READERS:
            for name, table in (await read(stats, query)).items():
                archive.writestr(name, _csv(table))
                yield spool.take()
    yield spool.take()
