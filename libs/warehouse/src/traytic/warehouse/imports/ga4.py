"""Google Analytics 4: the CSV files its reports and explorations download (Share this report →
Download file → Download CSV), one file or several in a ZIP.

A GA4 CSV starts with `#` lines (the report's name, account, property, start and end date),
then a header and one row per value. Traytic needs daily rows, so each file must carry the
`Date` dimension (`20240131`): add it as a secondary dimension in a report, or as a row in an
exploration. The other dimension column says which report the file is, by its GA4 name:

| GA4 column | Traytic dimension |
|---|---|
| (none but Date) | the site's daily totals |
| Page path and screen class, Page path, Page path + query string | pages |
| Landing page, Landing page + query string | entry pages |
| Session source, First user source, Source, Session source / medium | sources |
| Session default channel group, Default channel group | channels |
| Session campaign, Session manual campaign name, Campaign | UTM campaigns |
| Country | countries (names become ISO codes) |
| Region (with Country) | regions |
| City (with Country) | cities |
| Device category | devices |
| Browser | browsers |
| Operating system | operating systems |

Figures: `Total users` / `Active users` / `Users` → visitors, `Sessions` → visits, `Views` →
pageviews, `Engaged sessions` → visits less bounces (or `Bounce rate` times sessions), `Average
session duration` times sessions → summed visit seconds. GA4's `(direct)` source and `(not set)`
values are read as Traytic's empty value.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from traytic.warehouse.imports import names
from traytic.warehouse.imports.figures import (
    ENTRY_PAGE,
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
)

DIMENSION_COLUMNS: dict[str, str] = {
    "page path and screen class": "pathname",
    "page path": "pathname",
    "page path + query string": "pathname",
    "landing page": ENTRY_PAGE,
    "landing page + query string": ENTRY_PAGE,
    "session source": "referrer_source",
    "first user source": "referrer_source",
    "source": "referrer_source",
    "session source / medium": "referrer_source",
    "session default channel group": "channel",
    "default channel group": "channel",
    "session campaign": "utm_campaign",
    "session manual campaign name": "utm_campaign",
    "campaign": "utm_campaign",
    "country": "country",
    "region": "region",
    "city": "city",
    "device category": "device",
    "browser": "browser",
    "operating system": "os",
}
VISITORS = ("total users", "active users", "users")
VISITS = ("sessions",)
PAGEVIEWS = ("views", "screen page views", "page views")
_NOT_SET = {"(not set)", "(other)", "(none)"}


def _places() -> ModuleType:
    """`stats.v2.places` (pycountry's names), imported when first needed: the stats package
    imports this one, so importing it at the top would be circular."""
    from traytic.warehouse.stats.v2 import places

    return places


def _first(row: dict[str, str], columns: tuple[str, ...]) -> str | None:
    return next((column for column in columns if column in row), None)


def _number(text: str) -> float:
    cleaned = text.strip().replace(",", "")
    percent = cleaned.endswith("%")
    try:
        value = float(cleaned.rstrip("%") or 0)
    except ValueError:
        return -1.0
    return value / 100 if percent else value


def _sums(row: dict[str, str], where: str, visitors_column: str | None) -> Sums:
    visits = whole(row.get("sessions", ""), "Sessions", where)
    if "engaged sessions" in row:
        bounces = visits - whole(row["engaged sessions"], "Engaged sessions", where)
    elif "bounce rate" in row:
        bounces = round(visits * max(0.0, _number(row["bounce rate"])))
    else:
        bounces = 0
    duration = _number(row.get("average session duration", "0"))
    if duration < 0:
        raise ImportFormatError(f"{where}: Average session duration must be a number")
    views = _first(row, PAGEVIEWS)
    return Sums(
        visitors=whole(row[visitors_column], "Users", where) if visitors_column else 0,
        visits=visits,
        pageviews=whole(row[views], "Views", where) if views else 0,
        bounces=max(0, bounces),
        visit_duration=round(duration * visits),
    )


def _value(dimension: str, text: str) -> str:
    cleaned = text.strip()
    if cleaned.lower() in _NOT_SET:
        return ""
    if dimension == "referrer_source":
        return names.source(cleaned.split(" / ", 1)[0])
    if dimension == "device":
        return names.device(cleaned)
    if dimension == "browser":
        return names.browser(cleaned)
    if dimension == "os":
        return names.operating_system(cleaned)
    if dimension == "country":
        code: str = _places().country_code(cleaned)
        return code
    return cleaned


def _region_code(country: str, name: str) -> str:
    """`California` in `US` → `CA` (the part after the ISO 3166-2 prefix, as stored)."""
    for code, region in _places().region_names().items():
        if code.startswith(country + "-") and region.casefold() == name.casefold():
            part: str = code.split("-", 1)[1]
            return part
    return ""


def read_table(rows: Iterator[dict[str, str]], name: str, out: DailyFigures) -> None:
    for number, row in enumerate(rows, start=2):
        where = f"{name}, row {number}"
        if "date" not in row:
            raise ImportFormatError(
                f"{name}: no Date column: export the report with the Date dimension added"
                " (Traytic keeps daily figures)"
            )
        visitors = _first(row, VISITORS)
        if visitors is None and "sessions" not in row:
            raise ImportFormatError(f"{name}: no Total users, Active users or Sessions column")
        day = parse_day(row["date"], where)
        sums = _sums(row, where, visitors)
        found = [c for c in row if c in DIMENSION_COLUMNS]
        if not found:
            out.add(TOTALS, day, "", sums)
            continue
        country = _value("country", row["country"]) if "country" in row else ""
        for column in found:
            dimension = DIMENSION_COLUMNS[column]
            value = _value(dimension, row[column])
            if dimension in ("region", "city"):
                if not country or not value:
                    continue
                value = _region_code(country, value) if dimension == "region" else value
                if value:
                    out.add(dimension, day, value, sums, parent=country)
            elif dimension == "country" and len(found) > 1:
                continue  # a region or city table: its rows are not the country's whole day
            else:
                out.add(dimension, day, value, sums)


def read_export(path: Path, progress: Progress | None = None) -> DailyFigures:
    """The daily figures of one GA4 CSV, or of every CSV in a ZIP."""
    progress = progress if progress is not None else Progress()
    out = DailyFigures()
    if path.suffix.lower() != ".zip":
        progress.total = path.stat().st_size
        with path.open("rb") as raw:
            read_table(
                csv_rows(io.BufferedReader(CountingReader(raw, progress)), path.name),
                path.name,
                out,
            )
    else:
        with open_zip(path) as archive:
            members = csv_members(archive)
            if not members:
                raise ImportFormatError(f"{path.name}: the ZIP holds no CSV file")
            progress.total = sum(member.file_size for member in members)
            for member in members:
                name = basename(member.filename)
                with archive.open(member) as raw:
                    stream = io.BufferedReader(CountingReader(raw, progress))
                    read_table(csv_rows(stream, name), name, out)
    if not any(key[0] == TOTALS for key in out.rows):
        raise ImportFormatError(
            f"{path.name}: no file with Date as its only dimension: the daily totals every"
            " report needs"
        )
    return out
