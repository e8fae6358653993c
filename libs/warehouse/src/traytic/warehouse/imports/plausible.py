"""Plausible's CSV export (Site settings → Imports & Exports → Export data): a ZIP of
`imported_<table>_<YYYYMMDD>_<YYYYMMDD>.csv` files (or without the `imported_` prefix), one per
table of its imported_* schema, each with a header line and one row per day and value.

The columns read, by name (extra columns are ignored):

| file | key columns | figures |
|---|---|---|
| visitors | date | visitors, pageviews, bounces, visits, visit_duration |
| sources | date, source, referrer, utm_source, utm_medium, utm_campaign, utm_content, utm_term | visitors, visits, pageviews, bounces, visit_duration |
| pages | date, hostname, page | visitors, visits, pageviews |
| entry_pages | date, entry_page | visitors, entrances (its visits), bounces, visit_duration, pageviews |
| exit_pages | date, exit_page | visitors, exits (its visits), bounces, visit_duration, pageviews |
| locations | date, country, region, city | visitors, visits, pageviews, bounces, visit_duration |
| devices | date, device | the same |
| browsers | date, browser, browser_version | the same |
| operating_systems | date, operating_system, operating_system_version | the same |

`visit_duration` is the visits' summed seconds, as Plausible stores it. Cities are GeoNames ids
in the export, which Traytic cannot name without the GeoNames database: they are left out (the
country and region of the same rows are kept). `imported_custom_events` is read past: Traytic's
reports have no imported custom events yet.
"""

# ruff: noqa: E501 - the table above

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from traytic.warehouse.imports import names
from traytic.warehouse.imports.figures import (
    ENTRY_PAGE,
    EXIT_PAGE,
    TOTALS,
    DailyFigures,
    ImportFormatError,
    Sums,
    whole,
)
from traytic.warehouse.imports.reading import (
    CountingReader,
    Progress,
    basename,
    csv_members,
    csv_rows,
    open_zip,
    parse_day,
    require,
)

_FILE_NAME = re.compile(
    r"^(?:imported_)?(?P<table>[a-z_]+?)_(?P<first>\d{8})_(?P<last>\d{8})\.csv$"
)
TABLES = (
    "visitors",
    "sources",
    "pages",
    "entry_pages",
    "exit_pages",
    "locations",
    "devices",
    "browsers",
    "operating_systems",
    "custom_events",
)
Reader = Callable[[Iterator[dict[str, str]], str, DailyFigures], None]


def _sums(row: dict[str, str], where: str, visits: str = "visits") -> Sums:
    def count(column: str) -> int:
        return whole(row.get(column, ""), column, where)

    return Sums(
        visitors=count("visitors"),
        visits=count(visits),
        pageviews=count("pageviews"),
        bounces=count("bounces"),
        visit_duration=count("visit_duration"),
    )


def _rows(
    rows: Iterator[dict[str, str]], name: str, columns: tuple[str, ...]
) -> Iterator[tuple[dict[str, str], str]]:
    for number, row in enumerate(rows, start=2):
        if number == 2:
            require(row, ("date", *columns), name)
        yield row, f"{name}, row {number}"


def _visitors(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for row, where in _rows(rows, name, ("visitors", "visits")):
        out.add(TOTALS, parse_day(row["date"], where), "", _sums(row, where))


def _sources(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for row, where in _rows(rows, name, ("source", "visitors")):
        day, sums = parse_day(row["date"], where), _sums(row, where)
        out.add("referrer_source", day, names.source(row["source"]), sums)
        for column in ("referrer", "channel", *(f"utm_{part}" for part in _UTM)):
            value = row.get(column, "").strip()
            if value:
                out.add(column, day, value, sums)


_UTM = ("source", "medium", "campaign", "content", "term")


def _pages(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for row, where in _rows(rows, name, ("page", "visitors")):
        out.add("pathname", parse_day(row["date"], where), row["page"], _sums(row, where))


def _entry_pages(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for row, where in _rows(rows, name, ("entry_page", "visitors", "entrances")):
        day = parse_day(row["date"], where)
        out.add(ENTRY_PAGE, day, row["entry_page"], _sums(row, where, visits="entrances"))


def _exit_pages(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for row, where in _rows(rows, name, ("exit_page", "visitors", "exits")):
        day = parse_day(row["date"], where)
        out.add(EXIT_PAGE, day, row["exit_page"], _sums(row, where, visits="exits"))


def _locations(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for row, where in _rows(rows, name, ("country", "visitors")):
        day, sums = parse_day(row["date"], where), _sums(row, where)
        country = row["country"].strip().upper()
        out.add("country", day, country, sums)
        region = names.region(country, row.get("region", ""))
        if region:
            out.add("region", day, region, sums, parent=country)


def _single(column: str, dimension: str, clean: Callable[[str], str]) -> Reader:
    def read(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
        for row, where in _rows(rows, name, (column, "visitors")):
            out.add(dimension, parse_day(row["date"], where), clean(row[column]), _sums(row, where))

    return read


def _versioned(column: str, dimension: str, clean: Callable[[str], str]) -> Reader:
    """A name and its version (browsers, operating systems): the version row under its name."""

    def read(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
        for row, where in _rows(rows, name, (column, "visitors")):
            day, sums, value = parse_day(row["date"], where), _sums(row, where), clean(row[column])
            out.add(dimension, day, value, sums)
            version = row.get(f"{column}_version", "").strip()
            if version and version != "(not set)":
                out.add(f"{dimension}_version", day, version, sums, parent=value)

    return read


def _skip(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for _ in rows:
        pass


READERS: dict[str, Reader] = {
    "visitors": _visitors,
    "sources": _sources,
    "pages": _pages,
    "entry_pages": _entry_pages,
    "exit_pages": _exit_pages,
    "locations": _locations,
    "devices": _single("device", "device", names.device),
    "browsers": _versioned("browser", "browser", names.browser),
    "operating_systems": _versioned("operating_system", "os", names.operating_system),
    "custom_events": _skip,
}


def table_of(file_name: str) -> str:
    """The table a file of the export holds, from its name; a 400 naming it otherwise."""
    match = _FILE_NAME.match(basename(file_name))
    if match is None or match["table"] not in READERS:
        raise ImportFormatError(
            f"{basename(file_name)[:100]}: not a file of a Plausible export"
            " (imported_<table>_<YYYYMMDD>_<YYYYMMDD>.csv)"
        )
    return match["table"]


def read_export(path: Path, progress: Progress | None = None) -> DailyFigures:
    """The daily figures of a Plausible export ZIP."""
    progress = progress if progress is not None else Progress()
    out = DailyFigures()
    with open_zip(path) as archive:
        members = csv_members(archive)
        if not members:
            raise ImportFormatError(f"{path.name}: the ZIP holds no CSV file")
        tables = [(member, table_of(member.filename)) for member in members]
        if "visitors" not in {table for _, table in tables}:
            raise ImportFormatError(
                f"{path.name}: no imported_visitors_*.csv, the daily totals every report needs"
            )
        progress.total = sum(member.file_size for member in members)
        for member, table in tables:
            with archive.open(member) as raw:
                name = basename(member.filename)
                stream = io.BufferedReader(CountingReader(raw, progress))
                READERS[table](csv_rows(stream, name), name, out)
    return out
