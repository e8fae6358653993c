"""Umami's PostgreSQL database read directly: one website's `website_event` rows joined with
their `session`, streamed through a server-side cursor into the same counting as its exports
(`traytic.warehouse.imports.umami`). Umami moved columns between versions (`hostname`, the
`utm_*` columns); only the columns this database has are read."""

# ruff: noqa: S608 - column names come from information_schema and are checked against the
# fixed lists below; the website id is bound

from __future__ import annotations

from typing import Any

import psycopg

from traytic.warehouse.imports import DailyFigures, ImportFormatError, Progress
from traytic.warehouse.imports.umami import UmamiCounter

EVENT_COLUMNS = (
    "session_id", "visit_id", "created_at", "url_path", "referrer_domain", "event_type",
    "event_name", "hostname", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content",
)  # fmt: skip
SESSION_COLUMNS = ("hostname", "browser", "os", "device", "country", "subdivision1", "city")
REQUIRED = ("session_id", "created_at", "url_path", "event_type")
BATCH = 10_000


def _columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = %s AND table_schema = current_schema()",
        (table,),
    ).fetchall()
    return {row[0] for row in rows}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def read_database(url: str, website_id: str, tz: str, progress: Progress) -> DailyFigures:
    """The daily figures of one Umami website, read from its PostgreSQL database at `url`."""
    counter = UmamiCounter(tz)
    try:
        conn = psycopg.connect(url, autocommit=False)
    except psycopg.Error as exc:
        raise ImportFormatError(f"cannot connect to the Umami database: {exc}") from None
    with conn:
        events, sessions = _columns(conn, "website_event"), _columns(conn, "session")
        missing = [column for column in REQUIRED if column not in events]
        if not events or missing:
            raise ImportFormatError(
                "no Umami website_event table in that database"
                + (f" (it lacks {', '.join(missing)})" if events else "")
            )
        chosen = [f"e.{c}" for c in EVENT_COLUMNS if c in events]
        chosen += [f"s.{c}" for c in SESSION_COLUMNS if c in sessions and c not in events]
        names = [column.split(".", 1)[1] for column in chosen]
        total = conn.execute(
            "SELECT count(*) FROM website_event WHERE website_id::text = %s", (website_id,)
        ).fetchone()
        progress.total = int(total[0]) if total else 0
        with conn.cursor(name="traytic_umami_import") as cursor:
            cursor.itersize = BATCH
            cursor.execute(
                f"SELECT {', '.join(chosen)} FROM website_event e"
                " LEFT JOIN session s ON s.session_id = e.session_id"
                " WHERE e.website_id::text = %s",
                (website_id,),
            )
            for number, row in enumerate(cursor, start=1):
                counter.add(
                    {name: _text(value) for name, value in zip(names, row, strict=True)},
                    f"website_event row {number}",
                )
                progress.done = number
    return counter.figures()
