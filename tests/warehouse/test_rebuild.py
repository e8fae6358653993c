"""Migrations 0005, 0025 and 0030 on both engines: an install with events gets them into `events`
with the sampling key, every row once, after a run that died halfway too; `daily_stats` gets its
small granules with the same states; `sessions` its sampling key with every visit once; the
rollup views keep filling after each swap; a second run does nothing."""

from __future__ import annotations

import pytest

from tests.warehouse.stats.dataset import make_dataset, store
from tests.warehouse.stats.test_sampling import hashed_visitors
from traytic.warehouse import Warehouse, migrate
from traytic.warehouse.migrate import Migration

ROWS = hashed_visitors(make_dataset(seed=3, sessions=120, days=100))


async def engine_of(warehouse: Warehouse, table: str) -> str:
    rows = await warehouse.query(
        "SELECT engine_full FROM system.tables WHERE database = {db:String}"
        " AND name = {table:String}",
        {"db": warehouse.database, "table": table},
    )
    return str(rows[0]["engine_full"]) if rows else ""


async def counts(warehouse: Warehouse) -> tuple[int, int, int]:
    [row] = await warehouse.query(
        "SELECT count() AS n, uniqExact(event_id) AS ids,"
        " (SELECT sumMerge(events) FROM event_stats) AS rolled FROM events"
    )
    return int(row["n"]), int(row["ids"]), int(row["rolled"])


async def install_without(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, migration: str
) -> list[Migration]:
    """An install made before `migration` that holds the dataset; returns every migration."""
    every: list[Migration] = migrate.load_migrations()
    await warehouse.drop_database()
    with monkeypatch.context() as patched:
        patched.setattr(
            "traytic.warehouse.base.load_migrations",
            lambda: [m for m in every if not m.name.startswith(migration)],
        )
        await warehouse.migrate()
    await store(warehouse, ROWS)
    return every


async def upgrade_from_before(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, *, died_halfway: bool
) -> None:
    """An install from before 0005 that holds the dataset (and maybe a copy a run left)."""
    every = await install_without(warehouse, monkeypatch, "0005")
    assert "SAMPLE BY" not in await engine_of(warehouse, "events")
    if died_halfway:
        # A run that created the copy and wrote one month and a part of another, then died.
        step = next(s for m in every if m.name.startswith("0005") for s in m.statements)
        await warehouse.execute(step)
        months = await warehouse.query(
            "SELECT DISTINCT toYYYYMM(ts) AS month FROM events ORDER BY month"
        )
        first, second = (int(row["month"]) for row in months[:2])
        await warehouse.execute(
            f"INSERT INTO events_sampled SELECT * FROM events WHERE toYYYYMM(ts) = {first}"
        )
        await warehouse.execute(
            "INSERT INTO events_sampled SELECT * FROM events"
            f" WHERE toYYYYMM(ts) = {second} AND event_id % 2 = 0"
        )


@pytest.mark.parametrize("died_halfway", [False, True])
async def test_an_install_gets_the_sampling_key_with_every_row_once(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, died_halfway: bool
) -> None:
    await upgrade_from_before(warehouse, monkeypatch, died_halfway=died_halfway)
    before = await counts(warehouse)
    assert before[0] == before[1] == len(ROWS)
    applied = await warehouse.migrate()
    assert any(name.startswith("0005") for name in applied)
    assert "SAMPLE BY visitor_id" in await engine_of(warehouse, "events")
    assert await engine_of(warehouse, "events_sampled") == ""
    assert await engine_of(warehouse, "events_replaced") == ""
    assert await counts(warehouse) == before
    # The views fill from the new table, once.
    await store(warehouse, make_dataset(seed=4, sessions=20, days=5))
    n, ids, rolled = await counts(warehouse)
    assert n == ids > len(ROWS) and rolled > before[2]
    assert await warehouse.migrate() == applied


async def test_a_sample_reads_whole_visitors(warehouse: Warehouse) -> None:
    await store(warehouse, ROWS)
    [row] = await warehouse.query(
        "SELECT count() AS n, uniqExact(visitor_id) AS visitors FROM events SAMPLE 0.5"
    )
    sampled = {
        int(r["visitor_id"])
        for r in await warehouse.query("SELECT DISTINCT visitor_id FROM events SAMPLE 0.5")
    }
    assert 0 < int(row["visitors"]) < len({r.visitor_id for r in ROWS})
    assert int(row["n"]) == sum(r.visitor_id in sampled for r in ROWS)


async def daily_states(warehouse: Warehouse) -> list[dict[str, object]]:
    return await warehouse.query(
        "SELECT site_id, dimension, day, value, parent, uniqCombinedMerge(14)(visitors) AS v,"
        " uniqCombinedMerge(14)(visits) AS s, sumMerge(pageviews) AS p FROM daily_stats"
        " GROUP BY site_id, dimension, day, value, parent"
        " ORDER BY site_id, dimension, day, value, parent"
    )


async def test_daily_stats_gets_small_granules_and_keeps_filling(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    await install_without(warehouse, monkeypatch, "0025")
    assert "index_granularity = 8192" in await engine_of(warehouse, "daily_stats")
    before = await daily_states(warehouse)
    assert before
    applied = await warehouse.migrate()
    assert any(name.startswith("0025") for name in applied)
    assert "index_granularity = 64" in await engine_of(warehouse, "daily_stats")
    assert await engine_of(warehouse, "daily_stats_small_granules") == ""
    assert await engine_of(warehouse, "daily_stats_replaced") == ""
    assert await daily_states(warehouse) == before
    # Both views (every dimension, and pages) write into the new table.
    later = make_dataset(seed=4, sessions=20, days=5)
    await store(warehouse, later)
    after = await daily_states(warehouse)
    pageviews = sum(r.type == "pageview" for r in [*ROWS, *later])
    for dimension in ("pathname", "country"):
        assert sum(int(r["p"]) for r in after if r["dimension"] == dimension) == pageviews
    assert await warehouse.migrate() == applied


async def visit_rows(warehouse: Warehouse) -> list[dict[str, object]]:
    return await warehouse.query(
        "SELECT site_id, session_id, visitor_id, started, pageviews, entry_page, exit_page,"
        " version FROM sessions FINAL ORDER BY site_id, session_id"
    )


async def test_sessions_get_the_sampling_key_with_every_visit_once(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    await install_without(warehouse, monkeypatch, "0030")
    assert "SAMPLE BY" not in await engine_of(warehouse, "sessions")
    assert not await warehouse.can_sample()
    before = await visit_rows(warehouse)
    assert len(before) == len({(r.site_id, r.session_id) for r in ROWS if r.type != "vital"})
    applied = await warehouse.migrate()
    assert any(name.startswith("0030") for name in applied)
    assert "SAMPLE BY visitor_id" in await engine_of(warehouse, "sessions")
    assert await warehouse.can_sample()
    assert await engine_of(warehouse, "sessions_sampled") == ""
    assert await engine_of(warehouse, "sessions_replaced") == ""
    assert await visit_rows(warehouse) == before
    # A sample of visits belongs to the visitors a sample of events holds.
    sampled = "SELECT DISTINCT site_id, session_id FROM {table} SAMPLE 0.5"
    visits = await warehouse.query(sampled.format(table="sessions FINAL"))
    events = await warehouse.query(
        sampled.format(table="events") + " WHERE type IN ('pageview', 'event')"
    )
    assert 0 < len(visits) < len(before)
    assert {(r["site_id"], r["session_id"]) for r in visits} == {
        (r["site_id"], r["session_id"]) for r in events
    }
    # Visits written after the swap go to the new table; a visit rewritten stays one row.
    later = make_dataset(seed=4, sessions=20, days=5)
    await store(warehouse, later)
    await store(warehouse, later)
    after = await visit_rows(warehouse)
    assert len(after) == len(before) + len({(r.site_id, r.session_id) for r in later})
    assert await warehouse.migrate() == applied
