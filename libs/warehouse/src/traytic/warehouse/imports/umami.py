"""Umami: its raw events, counted into daily figures the way Umami counts them.

Umami keeps one row per event (`website_event`: `session_id`, `visit_id`, `created_at`,
`url_path`, `referrer_domain`, `event_type` 1 = pageview / 2 = custom event, `event_name`,
`utm_*`) and one per session (`session`: `hostname`, `browser`, `os`, `device`, `screen`,
`country`, `subdivision1`, `city`). Three ways in, one counting:

- its data export (a CSV with one row per event and both tables' columns side by side);
- a ZIP of both tables dumped as CSV with their column names (`website_event.csv`,
  `session.csv`, e.g. `\\copy website_event TO 'website_event.csv' CSV HEADER` in psql);
- its PostgreSQL database itself (`traytic import umami postgresql://... --website <uuid>`).

Visitors are Umami's sessions (one per browser per month there), visits its `visit_id`s
(a session's visit, reset after 30 minutes), a bounce a visit of one pageview, a visit's
duration its last event's time less its first. A visit counts on the local day it starts, with
the source, UTM tags, place and device of its first event; pages count on their own day.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from traytic.warehouse.imports import names
from traytic.warehouse.imports.figures import (
    ENTRY_PAGE,
    EXIT_PAGE,
    TOTALS,
    DailyFigures,
    ImportFormatError,
    Key,
    Sums,
)
from traytic.warehouse.imports.reading import (
    CountingReader,
    Progress,
    basename,
    csv_members,
    csv_rows,
    open_zip,
    require,
)

EVENT_COLUMNS = ("session_id", "created_at", "url_path", "event_type")
SESSION_COLUMNS = ("session_id", "browser", "os", "device", "country")
_VISIT_DIMENSIONS = (
    ("referrer_source", "source"),
    ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"),
    ("utm_campaign", "utm_campaign"),
    ("utm_term", "utm_term"),
    ("utm_content", "utm_content"),
    ("country", "country"),
    ("device", "device"),
    ("browser", "browser"),
    ("os", "os"),
)


@dataclass(slots=True)
class _Visit:
    session: str
    start: datetime
    end: datetime
    attributes: dict[str, str]
    entry: str
    exit: str
    pageviews: int = 0
    events: int = 0


@dataclass(slots=True)
class _Counts:
    visitors: set[str] = field(default_factory=set)
    visits: set[str] = field(default_factory=set)
    pageviews: int = 0


def _timestamp(text: str, where: str) -> datetime:
    cleaned = text.strip().replace(" UTC", "").replace("Z", "+00:00")
    try:
        found = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ImportFormatError(f"{where}: created_at {cleaned[:40]!r} is not a time") from None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _path(row: dict[str, str]) -> str:
    return row.get("url_path", "").split("?", 1)[0].split("#", 1)[0] or "/"


def _attributes(row: dict[str, str]) -> dict[str, str]:
    referrer = names.host(row.get("referrer_domain", ""))
    own = names.host(row.get("hostname", ""))
    country = row.get("country", "").strip().upper()
    return {
        "source": "" if referrer == own else referrer,
        "utm_source": row.get("utm_source", "").strip(),
        "utm_medium": row.get("utm_medium", "").strip(),
        "utm_campaign": row.get("utm_campaign", "").strip(),
        "utm_term": row.get("utm_term", "").strip(),
        "utm_content": row.get("utm_content", "").strip(),
        "country": country,
        "region": names.region(country, row.get("subdivision1", "")),
        "city": row.get("city", "").strip(),
        "device": names.device(row.get("device", "")),
        "browser": names.browser(row.get("browser", "")),
        "os": names.operating_system(row.get("os", "")),
    }


class UmamiCounter:
    """Counts Umami event rows (each with its session's columns) into daily figures."""

    def __init__(self, tz: str = "UTC") -> None:
        self.zone = ZoneInfo(tz)
        self.visits: dict[str, _Visit] = {}
        self.pages: dict[tuple[date, str], _Counts] = {}

    def add(self, row: dict[str, str], where: str) -> None:
        at = _timestamp(row["created_at"], where)
        kind = row.get("event_type", "1").strip() or "1"
        session = row["session_id"].strip()
        visit_id = row.get("visit_id", "").strip() or f"{session}:{at.date()}"
        path = _path(row)
        visit = self.visits.get(visit_id)
        if visit is None:
            visit = self.visits[visit_id] = _Visit(session, at, at, _attributes(row), path, path)
        if at < visit.start:
            visit.start, visit.entry, visit.attributes = at, path, _attributes(row)
        if at >= visit.end:
            visit.end, visit.exit = at, path
        if kind == "1":
            visit.pageviews += 1
            counts = self.pages.setdefault((at.astimezone(self.zone).date(), path), _Counts())
            counts.visitors.add(session)
            counts.visits.add(visit_id)
            counts.pageviews += 1
        elif kind == "2":
            visit.events += 1

    def figures(self) -> DailyFigures:
        out = DailyFigures()
        visitors: dict[Key, set[str]] = {}
        sums: dict[Key, Sums] = {}

        def count(key: Key, visit: _Visit) -> None:
            visitors.setdefault(key, set()).add(visit.session)
            found = sums.setdefault(key, Sums())
            found.visits += 1
            found.pageviews += visit.pageviews
            found.bounces += int(visit.pageviews == 1)
            found.visit_duration += int((visit.end - visit.start).total_seconds())
            found.events += visit.events

        for visit in self.visits.values():
            day = visit.start.astimezone(self.zone).date()
            attributes = visit.attributes
            count((TOTALS, day, "", ""), visit)
            count((ENTRY_PAGE, day, visit.entry, ""), visit)
            count((EXIT_PAGE, day, visit.exit, ""), visit)
            for dimension, name in _VISIT_DIMENSIONS:
                if attributes[name] or dimension in ("referrer_source", "country", "device"):
                    count((dimension, day, attributes[name], ""), visit)
            for dimension in ("region", "city"):
                if attributes[dimension]:
                    count((dimension, day, attributes[dimension], attributes["country"]), visit)
        for key, found in sums.items():
            found.visitors = len(visitors[key])
            out.add(key[0], key[1], key[2], found, parent=key[3])
        for (day, path), counts in self.pages.items():
            page = Sums(
                visitors=len(counts.visitors),
                visits=len(counts.visits),
                pageviews=counts.pageviews,
            )
            out.add("pathname", day, path, page)
        return out


def count_rows(rows: Iterable[dict[str, str]], name: str, counter: UmamiCounter) -> None:
    for number, row in enumerate(rows, start=2):
        if number == 2:
            require(row, EVENT_COLUMNS, name)
        counter.add(row, f"{name}, row {number}")


def _sessions(rows: Iterable[dict[str, str]], name: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for number, row in enumerate(rows, start=2):
        if number == 2:
            require(row, SESSION_COLUMNS, name)
        found[row["session_id"].strip()] = row
    return found


def read_export(path: Path, tz: str = "UTC", progress: Progress | None = None) -> DailyFigures:
    """Umami's data export (one CSV), or a ZIP of `website_event.csv` and `session.csv` (or of
    exported CSVs), in the site's time zone `tz`."""
    progress = progress if progress is not None else Progress()
    counter = UmamiCounter(tz)
    if path.suffix.lower() != ".zip":
        progress.total = path.stat().st_size
        with path.open("rb") as raw:
            stream = io.BufferedReader(CountingReader(raw, progress))
            count_rows(csv_rows(stream, path.name), path.name, counter)
        return counter.figures()
    with open_zip(path) as archive:
        members = {basename(m.filename).lower(): m for m in csv_members(archive)}
        if not members:
            raise ImportFormatError(f"{path.name}: the ZIP holds no CSV file")
        progress.total = sum(member.file_size for member in members.values())
        sessions: dict[str, dict[str, str]] | None = None
        if "session.csv" in members:
            with archive.open(members.pop("session.csv")) as raw:
                stream = io.BufferedReader(CountingReader(raw, progress))
                sessions = _sessions(csv_rows(stream, "session.csv"), "session.csv")
        for name, member in sorted(members.items()):
            with archive.open(member) as raw:
                stream = io.BufferedReader(CountingReader(raw, progress))
                rows = csv_rows(stream, name)
                if sessions is not None:
                    rows = (_joined(row, sessions) for row in rows)
                count_rows(rows, name, counter)
    return counter.figures()


def _joined(event: dict[str, str], sessions: dict[str, dict[str, str]]) -> dict[str, str]:
    """An event row with its session's columns (the event's own win where both have one)."""
    session = sessions.get(event.get("session_id", "").strip(), {})
    return {**session, **{k: v for k, v in event.items() if v or k not in session}}
