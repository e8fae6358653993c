"""The `sessions` table: one row per visit, rebuilt from its events.

The consumer calls `Warehouse.refresh_sessions` after each insert with the visits the batch
touched. Each visit's row is recomputed from *all* its stored events (read by primary key from
`session_events`, the last days' events sorted by visit), never patched with the batch's, so a
redelivered batch, a retried insert or two replicas refreshing the same visit at once all end in
the same row: the one with the highest `version` (the visit's event count) wins when
`ReplacingMergeTree` merges, and readers use `FINAL` until it has.
"""

# ruff: noqa: S608 - the SQL splices only the fixed column list below

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traytic.warehouse.sql import Statement

RECENT_DAYS = 3
"""How long `session_events` keeps events (its view copies nothing older; the consumer drops
older day partitions). A visit started earlier is rewritten from `events`, slowly."""
RECENT_S = RECENT_DAYS * 86_400
IDS_PER_REFRESH = 2_500
"""Visits per refresh statement: three lists of this length stay under 18.16's query size cap
(256 KiB; tested). Fewer, larger statements: each reads about the same granules."""

_ATTRIBUTES = (
    "hostname", "referrer", "referrer_source", "channel", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "country", "region", "city", "browser", "os",
    "device", "screen",
)  # fmt: skip
"""Visit attributes: those of its first event (the landing page's source, place, device)."""

SESSION_FILTER_COLUMNS = frozenset(_ATTRIBUTES)
"""Event columns a visit has one value of: filters on them can be answered from `sessions`."""

_SELECT = (
    "SELECT site_id, {started} AS started, session_id, any(visitor_id) AS visitor_id,"
    " min(ts) AS first_ts, max(ts) AS last_ts,"
    " toUInt32(countIf(type = 'pageview')) AS pageviews,"
    " toUInt32(countIf(type = 'event')) AS events,"
    " argMinIf(pathname, ts, type = 'pageview') AS entry_page,"
    " argMaxIf(pathname, ts, type = 'pageview') AS exit_page, "
    + ", ".join(f"argMin({column}, ts) AS {column}" for column in _ATTRIBUTES)
    + ", count() AS version FROM {source} WHERE type IN ('pageview', 'event') {where}"
    " GROUP BY site_id, session_id"
)


def backfill(parts: int = 1) -> list[Statement]:
    """Rows for every visit in `events` (the migration that creates the table), in `parts`
    statements over a slice of the visits each; `started` is the first event's time, as the
    consumer's session state records it."""
    return [
        Statement(
            "INSERT INTO sessions "
            + _SELECT.format(
                started="min(ts)", source="events", where=f"AND session_id % {parts} = {part}"
            ),
            {},
        )
        for part in range(parts)
    ]


def refresh(visits: Mapping[tuple[str, int], int], lookback_s: int, now: int) -> list[Statement]:
    """Statements rewriting the rows of `visits`: (site id, session id) → start (unix seconds).

    A visit's events may precede its recorded start by up to `lookback_s` (the session timeout:
    an event that late still joins the visit), so the scan starts that much earlier. Visits
    whose events may reach back past what `session_events` keeps are read from `events`."""
    recent_from = now - RECENT_S + 3600
    items = sorted(visits.items(), key=lambda item: item[0][1])
    recent = [item for item in items if item[1] - lookback_s >= recent_from]
    old = [item for item in items if item[1] - lookback_s < recent_from]
    return [
        *_refresh_from(recent, lookback_s, "session_events"),
        *_refresh_from(old, lookback_s, "events"),
    ]


def _refresh_from(
    items: list[tuple[tuple[str, int], int]], lookback_s: int, source: str
) -> list[Statement]:
    statements = []
    for offset in range(0, len(items), IDS_PER_REFRESH):
        chunk = items[offset : offset + IDS_PER_REFRESH]
        ids = [session_id for (_, session_id), _ in chunk]
        params: dict[str, Any] = {
            "sites": tuple(sorted({site_id for (site_id, _), _ in chunk})),
            "since": max(0, min(started for _, started in chunk) - lookback_s),
            "ids": tuple(ids),
            "id_list": ids,
            "starts": [started for _, started in chunk],
        }
        where = (
            "AND site_id IN {sites} AND ts >= toDateTime({since:UInt32}) AND session_id IN {ids}"
        )
        started = "toDateTime(transform(session_id, {id_list}, {starts}, 0), 'UTC')"
        select = _SELECT.format(started=started, source=source, where=where)
        statements.append(Statement("INSERT INTO sessions " + select, params))
    return statements
