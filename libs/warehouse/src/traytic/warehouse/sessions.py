"""The `sessions` table: one row per visit, rewritten as the visit grows.

Two ways to the same row, both idempotent (the row with the highest `version`, the visit's count
of events, wins when `ReplacingMergeTree` merges; readers use `FINAL` until it has):

- `SessionRow`s the consumer computes itself from the events of a visit it alone has written
  (`Warehouse.insert_sessions`): no read at all, the common case.
- `refresh`: statements that recompute each visit from *all* its stored events (read by primary
  key from `session_events`, the last days' events sorted by visit), for visits the consumer
  cannot vouch for alone: written by another replica too, redelivered, or older than its memory.

Ties in time are broken by event id, so both ways pick the same first event (whose source,
place and device the visit carries) and the same entry and exit pages.
"""

# ruff: noqa: S608 - the SQL splices only the fixed column list below

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

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


class SessionRow(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One row of `sessions`, fields in column order (the backends encode it as it is)."""

    site_id: str
    started: int
    """Unix seconds: the visit's start as the consumer's session state has it (keys the row)."""
    session_id: int
    visitor_id: int
    first_ts: int
    last_ts: int
    pageviews: int
    events: int
    entry_page: str
    exit_page: str
    hostname: str
    referrer: str
    referrer_source: str
    channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    country: str
    region: str
    city: str
    browser: str
    os: str
    device: str
    screen: str
    version: int
    """How many of the visit's events (pageviews and custom events) the row holds."""


SESSION_COLUMNS: tuple[str, ...] = SessionRow.__struct_fields__
ATTRIBUTES = _ATTRIBUTES
assert SESSION_COLUMNS[10:26] == _ATTRIBUTES

_FIRST = "(ts, event_id)"
"""The order of a visit's events: by time, ties by event id (a beacon's events in order)."""

_SELECT = (
    "SELECT site_id, {started} AS started, session_id,"
    f" argMin(visitor_id, {_FIRST}) AS visitor_id,"
    " min(ts) AS first_ts, max(ts) AS last_ts,"
    " toUInt32(countIf(type = 'pageview')) AS pageviews,"
    " toUInt32(countIf(type = 'event')) AS events,"
    f" argMinIf(pathname, {_FIRST}, type = 'pageview') AS entry_page,"
    f" argMaxIf(pathname, {_FIRST}, type = 'pageview') AS exit_page, "
    + ", ".join(f"argMin({column}, {_FIRST}) AS {column}" for column in _ATTRIBUTES)
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
