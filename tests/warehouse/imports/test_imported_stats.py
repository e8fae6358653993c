"""Imports stored and reported, on both engines: each answer with `imported=true` equals the
native answer plus what the fixture files say (read with plain `csv`), days with native data are
skipped and named, importing again replaces, deleting removes, filters leave imports out."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.warehouse.imports.files import (
    UMAMI,
    plausible_by,
    plausible_table,
    plausible_totals,
    plausible_zip,
)
from tests.warehouse.stats.dataset import event, store
from traytic.warehouse import Warehouse
from traytic.warehouse.imports import ImportStore, read_file, run_import
from traytic.warehouse.stats import Filters, Stats, StatsQuery
from traytic.warehouse.stats.results import Row
from traytic.warehouse.stats.v2 import V2Stats, parse_query
from traytic.warehouse.stats.v2.imported import imported_rows

SITE = "st_imports"
D1, D2, D3, D4 = (date(2024, 1, d) for d in (1, 2, 3, 4))


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


NATIVE = [
    # Native data begins on 3 January: the export's 3 January is skipped.
    event(site_id=SITE, ts=at(D3, 10), visitor_id=1, session_id=1, pathname="/",
          referrer_source="Google", device="desktop", country="DE"),
    event(site_id=SITE, ts=at(D4, 9), visitor_id=2, session_id=2, pathname="/",
          device="mobile", country="US"),
    event(site_id=SITE, ts=at(D4, 9) .replace(minute=5), visitor_id=2, session_id=2,
          pathname="/blog", device="mobile", country="US"),
]  # fmt: skip


async def import_plausible(warehouse: Warehouse, tmp: Path) -> None:
    imports = ImportStore(warehouse)
    path = plausible_zip(tmp)
    job = await imports.start(SITE, "plausible", path.name)
    await run_import(imports, job, lambda p: read_file("plausible", path, "UTC", p), "UTC")


def q(imported: bool = True, **kwargs: object) -> StatsQuery:
    return StatsQuery.build(
        SITE,
        date_from=D1,
        date_to=D4,
        imported=imported,
        limit=100,
        **kwargs,  # type: ignore[arg-type]
    )


def by_value(rows: list[Row]) -> dict[str, tuple[int, int, int]]:
    return {row.value: (row.visitors, row.visits, row.pageviews) for row in rows}


@pytest.fixture
async def stats(warehouse: Warehouse, tmp_path: Path) -> Stats:
    await store(warehouse, NATIVE)
    await import_plausible(warehouse, tmp_path)
    return Stats(warehouse)


async def test_the_job_says_which_days_it_skipped(stats: Stats) -> None:
    [job] = await ImportStore(stats.warehouse).jobs(SITE)
    assert job.status == "done" and job.progress == 1.0
    assert (job.first_day, job.last_day) == (D1, D3)
    assert (job.skipped_from, job.skipped_to, job.skipped_days) == (D3, D3, 1)
    assert "2024-01-03" in job.message


async def test_overview_and_timeseries_add_the_files_figures(stats: Stats) -> None:
    native = await stats.overview(q(imported=False))
    both = await stats.overview(q())
    files = plausible_totals(D1, D2)  # D3 was skipped
    assert both.imports_included is True and native.imports_included is None
    assert both.visitors.value == native.visitors.value + files["visitors"]
    assert both.visits.value == native.visits.value + files["visits"]
    assert both.pageviews.value == native.pageviews.value + files["pageviews"]
    visits = native.visits.value + files["visits"]
    bounces = native.bounce_rate.value * native.visits.value + files["bounces"]
    assert both.bounce_rate.value == pytest.approx(bounces / visits)
    duration = native.visit_duration.value * native.visits.value + files["visit_duration"]
    assert both.visit_duration.value == pytest.approx(duration / visits)

    series = await stats.timeseries(q())
    native_series = await stats.timeseries(q(imported=False))
    for bucket, plain in zip(series.buckets, native_series.buckets, strict=True):
        day = bucket.start.date()
        extra = plausible_totals(day, day) if day in (D1, D2) else {}
        assert bucket.visitors == plain.visitors + extra.get("visitors", 0), day
        assert bucket.pageviews == plain.pageviews + extra.get("pageviews", 0), day


async def test_breakdowns_add_the_files_values(stats: Stats) -> None:
    pages, native_pages = await stats.pages(q()), await stats.pages(q(imported=False))
    files = plausible_by("pages", "page", D1, D2)
    merged = by_value(native_pages.pages)
    for value, sums in files.items():
        before = merged.get(value, (0, 0, 0))
        merged[value] = (
            before[0] + sums["visitors"], before[1] + sums["visits"],
            before[2] + sums["pageviews"],
        )  # fmt: skip
    assert by_value(pages.pages) == merged
    assert [row.value for row in pages.pages] == sorted(
        merged, key=lambda v: (-merged[v][0], -merged[v][2], v)
    )
    entry = {page.value: page.visits for page in pages.entry_pages}
    native_entry = {page.value: page.visits for page in native_pages.entry_pages}
    entrances = sum(  # an entry page's visits are its entrances
        int(row["entrances"])
        for row in plausible_table("entry_pages")
        if row["entry_page"] == "/" and date.fromisoformat(row["date"]) <= D2
    )
    assert entry["/"] == native_entry.get("/", 0) + entrances
    devices, native_devices = await stats.devices(q()), await stats.devices(q(imported=False))
    files_devices = plausible_by("devices", "device", D1, D2)
    assert by_value(devices.devices)["desktop"][0] == (
        by_value(native_devices.devices)["desktop"][0] + files_devices["Desktop"]["visitors"]
    )
    sources = by_value((await stats.sources(q())).sources)
    native_sources = by_value((await stats.sources(q(imported=False))).sources)
    google = plausible_by("sources", "source", D1, D2)["Google"]["visitors"]
    assert sources["Google"][0] == native_sources["Google"][0] + google
    countries = by_value((await stats.countries(q())).countries)
    assert countries["FR"][0] == plausible_by("locations", "country", D1, D2)["FR"]["visitors"]


async def test_filters_and_short_ranges_leave_imports_out(stats: Stats) -> None:
    filtered = dataclasses.replace(q(), filters=Filters.of(country="DE"))
    answer = await stats.overview(filtered)
    plain = await stats.overview(dataclasses.replace(q(imported=False), filters=filtered.filters))
    assert answer.imports_included is False and answer.visitors == plain.visitors
    # The last 24 hours hold no whole day: nothing imported is added.
    day = StatsQuery.build(SITE, period="24h", imported=True, now=at(D2, 12))
    assert (await stats.overview(day)).visitors.value == 0


async def test_importing_again_replaces_and_deleting_removes(stats: Stats, tmp_path: Path) -> None:
    first = await stats.overview(q())
    await import_plausible(stats.warehouse, tmp_path)
    imports = ImportStore(stats.warehouse)
    assert len(await imports.jobs(SITE)) == 2 and len(await imports.visible_runs(SITE)) == 1
    again = await stats.overview(q())
    assert again.visitors == first.visitors and again.pageviews == first.pageviews
    assert await imports.delete(SITE, "plausible")
    assert not await imports.delete(SITE, "plausible")
    native = await stats.overview(q(imported=False))
    assert (await stats.overview(q())).visitors == native.visitors


async def test_v2_query_includes_imports(stats: Stats) -> None:
    def v2(body: dict[str, object]) -> object:
        full = {"site_id": SITE, "date_range": ["2024-01-01", "2024-01-04"], **body}
        return parse_query(full, site_id=SITE, tz="UTC", now=at(D4, 23))

    async def run(body: dict[str, object]) -> dict[str, object]:
        query = v2(body)
        return await V2Stats(stats.warehouse).run(
            query,  # type: ignore[arg-type]
            lambda wanted: imported_rows(stats.warehouse, wanted),
        )

    plain = await run({"metrics": ["visitors", "pageviews"]})
    both = await run({"metrics": ["visitors", "pageviews"], "include": {"imports": True}})
    files = plausible_totals(D1, D2)
    assert both["meta"] == {"imports_included": True}  # type: ignore[index]
    [[visitors, pageviews]] = [r["metrics"] for r in both["results"]]  # type: ignore[index,union-attr]
    [[native_visitors, native_pageviews]] = [r["metrics"] for r in plain["results"]]  # type: ignore[index,union-attr]
    assert (visitors, pageviews) == (
        native_visitors + files["visitors"],
        native_pageviews + files["pageviews"],
    )
    by_source = await run(
        {"metrics": ["visitors"], "dimensions": ["visit:source"], "include": {"imports": True}}
    )
    rows = {r["dimensions"][0]: r["metrics"][0] for r in by_source["results"]}  # type: ignore[index,union-attr]
    assert (
        rows["Hacker News"] == plausible_by("sources", "source", D1, D2)["Hacker News"]["visitors"]
    )
    skipped = await run(
        {"metrics": ["visitors"], "filters": [["is", "visit:country", ["DE"]]],
         "include": {"imports": True}}
    )  # fmt: skip
    assert skipped["meta"]["imports_included"] is False  # type: ignore[index]
    assert "filtered" in skipped["meta"]["imports_skip_reason"]  # type: ignore[index]


async def test_umami_import_in_the_sites_time_zone(warehouse: Warehouse) -> None:
    imports = ImportStore(warehouse)
    path = UMAMI / "umami_export.csv"
    job = await imports.start(SITE, "umami", path.name)
    job = await run_import(
        imports, job, lambda p: read_file("umami", path, "Europe/Berlin", p), "Europe/Berlin"
    )
    assert job.status == "done" and job.skipped_days == 0
    query = StatsQuery.build(
        SITE, date_from="2024-02-01", date_to="2024-02-02", tz="Europe/Berlin", imported=True
    )
    overview = await Stats(warehouse).overview(query)
    assert (overview.visitors.value, overview.visits.value, overview.pageviews.value) == (4, 4, 6)
    assert overview.events.value == 1
