"""The `sessions` table on both engines: a visit's row rebuilt from its events, from
`session_events` for recent visits and from `events` for old ones, the same after a repeat, and
`session_events` pruned by day."""

from __future__ import annotations

import time
from typing import Any

from tests.warehouse.test_contract import make_row
from traytic.warehouse import EventRow, Warehouse, sessions
from traytic.warehouse.sessions import IDS_PER_REFRESH, RECENT_DAYS
from traytic.warehouse.sql import bind

NOW = int(time.time()) // 60 * 60


def visit(session_id: int, started: int, pages: list[str], events: int = 1) -> list[EventRow]:
    rows = [
        make_row(session_id * 100 + n, ts=started + 60 * n, session_id=session_id, pathname=page)
        for n, page in enumerate(pages)
    ]
    rows += [
        make_row(
            session_id * 100 + 50 + n,
            ts=started + 30 + n,
            session_id=session_id,
            type="event",
            name="signup",
        )
        for n in range(events)
    ]
    rows.append(
        make_row(session_id * 100 + 99, ts=started + 5, session_id=session_id, type="vital")
    )
    return rows


async def visit_rows(warehouse: Warehouse) -> dict[int, dict[str, Any]]:
    rows = await warehouse.query(
        "SELECT session_id, started, first_ts, last_ts, pageviews, events, entry_page,"
        " exit_page, version FROM sessions FINAL"
    )
    return {int(row["session_id"]): row for row in rows}


async def test_recent_and_old_visits_are_rebuilt_whole_and_repeats_change_nothing(
    warehouse: Warehouse,
) -> None:
    recent_start, old_start = NOW - 3600, NOW - 10 * 86400
    recent = visit(1, recent_start, ["/a", "/b", "/c"], events=2)
    old = visit(2, old_start, ["/x"])
    await warehouse.insert_events([*recent, *old])
    copied = await warehouse.query("SELECT DISTINCT session_id FROM session_events")
    assert {int(row["session_id"]) for row in copied} == {1}  # only the last days are copied

    starts = {("st_demo", 1): recent_start, ("st_demo", 2): old_start}
    await warehouse.refresh_sessions(starts, now=NOW)
    first = await visit_rows(warehouse)
    assert set(first) == {1, 2}
    assert (first[1]["pageviews"], first[1]["events"], first[1]["version"]) == (3, 2, 5)
    assert (first[1]["entry_page"], first[1]["exit_page"]) == ("/a", "/c")
    assert int(first[1]["last_ts"].timestamp()) - int(first[1]["first_ts"].timestamp()) == 120
    assert (first[2]["pageviews"], first[2]["events"], first[2]["version"]) == (1, 1, 2)
    assert int(first[2]["started"].timestamp()) == old_start

    # Later events of the recent visit, then the same refresh twice (a redelivery).
    later = visit(1, recent_start + 600, ["/d"], events=0)[:1]
    await warehouse.insert_events(later)
    await warehouse.refresh_sessions({("st_demo", 1): recent_start}, now=NOW)
    await warehouse.refresh_sessions({("st_demo", 1): recent_start}, now=NOW)
    again = await visit_rows(warehouse)
    assert (again[1]["pageviews"], again[1]["exit_page"], again[1]["version"]) == (4, "/d", 6)
    assert again[2] == first[2]


async def test_session_events_keep_only_the_last_days(warehouse: Warehouse) -> None:
    for days_ago in (RECENT_DAYS + 3, RECENT_DAYS + 1, 1):
        ts = NOW - days_ago * 86400
        await warehouse.execute(
            "INSERT INTO session_events (site_id, session_id, ts, event_id, type, visitor_id)"
            " SELECT 'st_demo', {sid:UInt64}, toDateTime({ts:UInt32}, 'UTC'), {sid:UInt64},"
            " 'pageview', 1",
            {"sid": days_ago, "ts": ts},
        )
    dropped = await warehouse.prune_session_events(now=NOW)
    assert len(dropped) == 2
    left = await warehouse.query("SELECT session_id FROM session_events")
    assert [int(row["session_id"]) for row in left] == [1]
    assert await warehouse.prune_session_events(now=NOW) == []


def test_a_full_refresh_statement_fits_the_query_size_cap_of_18_16() -> None:
    visits = {(f"st_{n % 7:016d}", 2**64 - 1 - n): NOW - n for n in range(IDS_PER_REFRESH)}
    [statement] = sessions.refresh(visits, 1800, NOW)
    assert len(bind(statement.sql, statement.params).encode()) < 256 * 1024
