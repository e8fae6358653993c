"""A migration that adds a rollup view fills it from the events already stored (an upgrade), on
both engines; a new install, with no events to read, runs none of those backfills."""

from __future__ import annotations

from typing import Any

import pytest

from tests.warehouse.stats.dataset import store
from tests.warehouse.test_rebuild import ROWS
from traytic.warehouse import Warehouse
from traytic.warehouse.migrate import backfills, load_migrations

ROLLED = (
    "SELECT site_id, type, day, name, level, route, prop_key, prop_value,"
    " sumMerge(events) AS events, uniqCombinedMerge(14)(visitors) AS visitors,"
    " sumMerge(good) AS good, sumMerge(poor) AS poor FROM event_stats"
    " GROUP BY site_id, type, day, name, level, route, prop_key, prop_value"
    " ORDER BY site_id, type, day, name, level, route, prop_key, prop_value"
)


async def before_event_stats(warehouse: Warehouse) -> None:
    """The install as it was before 0004 (which made `event_stats` and its view), with the
    dataset stored: the rollup and its view gone, 0004 not recorded."""
    await store(warehouse, ROWS)
    await warehouse.execute("DROP TABLE event_stats_mv")
    await warehouse.execute("DROP TABLE event_stats")
    await warehouse.execute("TRUNCATE TABLE schema_migrations")
    for migration in load_migrations():
        if not migration.name.startswith("0004"):
            await warehouse.execute(
                "INSERT INTO schema_migrations (name, applied_at) SELECT {name:String}, now()",
                {"name": migration.name},
            )


async def test_an_upgrade_fills_the_new_rollup_as_its_view_would(warehouse: Warehouse) -> None:
    await before_event_stats(warehouse)
    applied = await warehouse.migrate()
    assert any(name.startswith("0004") for name in applied)
    upgraded = await warehouse.query(ROLLED)
    assert sum(int(row["events"]) for row in upgraded if row["level"] == 0) == len(
        [row for row in ROWS if row.type in ("event", "vital")]
    )
    # The same events stored after the view exists: the view's own rows.
    await warehouse.execute("TRUNCATE TABLE event_stats")
    await warehouse.execute("TRUNCATE TABLE events")
    await store(warehouse, ROWS)
    assert await warehouse.query(ROLLED) == upgraded


async def test_a_new_install_runs_no_backfill(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    every_backfill = {
        statement.sql for migration in load_migrations() for statement in backfills(migration)
    }
    assert every_backfill  # the migrations do have backfills: an upgrade runs them
    await warehouse.drop_database()
    executed: list[str] = []
    execute = warehouse.execute

    async def recording(sql: str, params: Any = None) -> None:
        executed.append(sql)
        await execute(sql, params)

    monkeypatch.setattr(warehouse, "execute", recording)
    applied = await warehouse.migrate()
    assert len(applied) == len(load_migrations())
    assert executed and not every_backfill & set(executed)
    assert (await warehouse.query("SELECT count() AS n FROM event_stats"))[0]["n"] == 0
