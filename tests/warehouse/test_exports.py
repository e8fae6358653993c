"""Exports on both engines: the raw events as CSV and Parquet equal the stored rows of the range
(every type, filters applied, no visitor id), and the reports ZIP holds every report with the
numbers the stats service gives."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pyarrow.parquet as pq

from tests.warehouse.stats.dataset import SITE, make_dataset, store
from traytic.warehouse import Warehouse
from traytic.warehouse.exports import (
    EXPORT_COLUMNS,
    REPORT_FILES,
    events_csv,
    events_parquet,
    reports_zip,
)
from traytic.warehouse.stats import Filters, Stats, StatsQuery

ROWS = make_dataset()
QUERY = StatsQuery.build(
    SITE, date_from="2025-03-01", date_to="2025-03-20", tz="Asia/Kathmandu", limit=1000
)


def _expected(filters: Filters | None = None) -> list[tuple[str, int, str]]:
    lo, hi = QUERY.start.timestamp(), QUERY.end.timestamp()
    return sorted(
        (datetime.fromtimestamp(r.ts, UTC).strftime("%Y-%m-%d %H:%M:%S"), r.event_id, r.pathname)
        for r in ROWS
        if r.site_id == SITE and lo <= r.ts < hi and (filters is None or r.country == "DE")
    )


async def _joined(chunks: object) -> bytes:
    return b"".join([chunk async for chunk in chunks])  # type: ignore[attr-defined]


async def test_raw_events_as_csv_and_parquet(warehouse: Warehouse) -> None:
    await store(warehouse, ROWS)
    text = (await _joined(events_csv(warehouse, QUERY))).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS and "visitor_id" not in rows[0]
    assert sorted((r["ts"], int(r["event_id"]), r["pathname"]) for r in rows) == _expected()
    assert {r["type"] for r in rows} == {"pageview", "event", "vital", "error"}
    with_props = [r for r in rows if r["type"] == "event"]
    assert with_props and all(json.loads(r["props"]) for r in with_props)

    table = pq.read_table(io.BytesIO(await _joined(events_parquet(warehouse, QUERY))))
    assert table.column_names == list(EXPORT_COLUMNS)
    got = sorted(
        (ts.strftime("%Y-%m-%d %H:%M:%S"), event_id, page)
        for ts, event_id, page in zip(
            table["ts"].to_pylist(),
            table["event_id"].to_pylist(),
            table["pathname"].to_pylist(),
            strict=True,
        )
    )
    assert got == _expected()

    german = StatsQuery.build(
        SITE,
        date_from="2025-03-01",
        date_to="2025-03-20",
        tz="Asia/Kathmandu",
        filters=Filters.of(country="DE"),
    )
    filtered = list(
        csv.DictReader(io.StringIO((await _joined(events_csv(warehouse, german))).decode()))
    )
    assert sorted((r["ts"], int(r["event_id"]), r["pathname"]) for r in filtered) == _expected(
        german.filters
    )
    assert filtered and {r["country"] for r in filtered} == {"DE"}


async def test_reports_zip_holds_every_report(warehouse: Warehouse) -> None:
    await store(warehouse, ROWS)
    archive = zipfile.ZipFile(io.BytesIO(await _joined(reports_zip(Stats(warehouse), QUERY))))
    assert archive.namelist() == list(REPORT_FILES)
    assert archive.testzip() is None
    pages = await Stats(warehouse).pages(QUERY)
    read = list(csv.DictReader(io.StringIO(archive.read("pages.csv").decode())))
    assert [
        (r["page"], int(r["visitors"]), int(r["visits"]), int(r["pageviews"])) for r in read
    ] == [(p.value, p.visitors, p.visits, p.pageviews) for p in pages.pages]
    series = await Stats(warehouse).timeseries(QUERY)
    days = list(csv.DictReader(io.StringIO(archive.read("visitors.csv").decode())))
    assert [int(d["visitors"]) for d in days] == [b.visitors for b in series.buckets]
    assert sum(int(d["pageviews"]) for d in days) > 0
    errors = await Stats(warehouse).errors(QUERY)
    read = list(csv.DictReader(io.StringIO(archive.read("errors.csv").decode())))
    assert [(r["message"], r["page"], int(r["errors"])) for r in read] == [
        (e.message, e.page, e.errors) for e in errors.errors
    ]
    assert read, "the dataset holds errors"
