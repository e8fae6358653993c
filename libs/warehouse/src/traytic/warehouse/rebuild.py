"""A migration step that gives a table a new engine clause by copying it, for what no ALTER
changes on 18.16: `events` and `sessions` gain their sampling keys this way (migrations 0005 and
0030, issue 16), and `daily_stats` its small granules (migration 0025).

A migration statement `CREATE TABLE IF NOT EXISTS <new> AS <table> ENGINE = ...` means: copy
`table` into `new` (same columns, the new engine clause) month by month (by its `PARTITION BY`),
then swap the names and drop the old table. It is idempotent and resumable: a month whose row
count differs between the two tables (never copied, copied in part by a run that died, or
written to meanwhile) has its partition in `new` dropped and copied again, twice over (the second
pass catches what writers added during the first); the swap happens once, and a run that died
after it only finishes up. The materialized views reading `table` or writing to it are dropped
just before the swap and made again right after (a view follows a renamed table on chDB, goes
by name on 18.16): rows inserted in those few milliseconds reach `events` but not the rollups,
so run `traytic migrate` with writers stopped, as for any upgrade.

Cluster mode keeps the table as it is (a log line says so): a copy that reshards every row is a
job for the operator, and the stats read the whole table (no sampling) without the key, or
`daily_stats` in its larger granules (slower, same answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from traytic.warehouse.errors import WarehouseError

if TYPE_CHECKING:
    from traytic.warehouse.base import Warehouse
    from traytic.warehouse.cluster import MigrationPlan

log = structlog.get_logger()

_REBUILD = re.compile(
    r"^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(?P<new>\w+)\s+AS\s+(?P<table>\w+)\s+"
    r"(?P<engine>ENGINE\s*=.*)$",
    re.DOTALL | re.IGNORECASE,
)
COPY_PASSES = 2
OLD_SUFFIX = "_replaced"


@dataclass(frozen=True, slots=True)
class Rebuild:
    table: str
    new: str
    engine: str
    """The new engine clause, `ENGINE = ...` to the end."""

    @property
    def marker(self) -> str:
        """What the new engine clause has and the old one lacks: how a run sees it is done."""
        found = re.search(r"\bSAMPLE\s+BY\s+\S+", self.engine, re.IGNORECASE) or re.search(
            r"\bindex_granularity\s*=\s*\d+", self.engine, re.IGNORECASE
        )
        return found[0] if found else self.engine

    @property
    def partition(self) -> str:
        """The expression a month's rows are copied by (the table's `PARTITION BY`)."""
        found = re.search(
            r"\bPARTITION\s+BY\s+(?P<key>.+?)\s+(?:ORDER|PRIMARY|SAMPLE|SETTINGS)\b",
            self.engine,
            re.IGNORECASE,
        )
        if found is None:
            raise WarehouseError(f"a rebuild copies by month: no PARTITION BY in {self.engine}")
        return found["key"]


def rebuild(statement: str) -> Rebuild | None:
    match = _REBUILD.match(statement.strip())
    if match is None:
        return None
    return Rebuild(match["table"], match["new"], " ".join(match["engine"].split()))


async def run(warehouse: Warehouse, step: Rebuild, views: list[str], plan: MigrationPlan) -> None:
    """Copy, swap and finish `step`; `views` are the CREATE statements of the views reading
    `step.table` or writing to it, made again after the swap."""
    if plan.cluster:
        log.warning("warehouse_rebuild_skipped_in_cluster_mode", table=step.table)
        return
    if not await _done(warehouse, step):
        try:
            await _copy_and_swap(warehouse, step, views)
        except WarehouseError:
            # Two processes migrating at once: the other one swapped first (its copy is the
            # one in place; both copies hold the same rows). Anything else is an error.
            if not await _done(warehouse, step) and not await _undo_half_swap(warehouse, step):
                raise
            log.info("warehouse_rebuild_done_by_another_process", table=step.table)
    for view in views:
        await warehouse.execute(view)
    await warehouse.execute(f"DROP TABLE IF EXISTS {step.table}{OLD_SUFFIX}")


async def _copy_and_swap(warehouse: Warehouse, step: Rebuild, views: list[str]) -> None:
    await warehouse.execute(f"CREATE TABLE IF NOT EXISTS {step.new} AS {step.table} {step.engine}")
    for _ in range(COPY_PASSES):
        await _copy_changed_months(warehouse, step)
    for view in views:
        name = view.split()[6]  # CREATE MATERIALIZED VIEW IF NOT EXISTS <name> ...
        await warehouse.execute(f"DROP TABLE IF EXISTS {name}")
    if await _done(warehouse, step):  # another process swapped while this one copied
        return
    await warehouse.execute(
        f"RENAME TABLE {step.table} TO {step.table}{OLD_SUFFIX}, {step.new} TO {step.table}"
    )
    log.info("warehouse_rebuild_swapped", table=step.table)


async def _done(warehouse: Warehouse, step: Rebuild) -> bool:
    engine = await warehouse.table_engine(step.table)
    return bool(engine) and step.marker.lower() in " ".join(engine.split()).lower()


async def _undo_half_swap(warehouse: Warehouse, step: Rebuild) -> bool:
    """18.16 renames one pair at a time: a process whose swap came after another's moved the
    swapped-in table aside, then failed on its own copy that was gone. Puts it back; True
    when the rebuild is done after all."""
    gone = not await warehouse.table_engine(step.table)
    aside = await warehouse.table_engine(step.table + OLD_SUFFIX)
    if not (gone and step.marker.lower() in " ".join(aside.split()).lower()):
        return False
    await warehouse.execute(f"RENAME TABLE {step.table}{OLD_SUFFIX} TO {step.table}")
    return await _done(warehouse, step)


async def _month_counts(warehouse: Warehouse, table: str) -> dict[str, int]:
    rows = await warehouse.query(
        "SELECT partition, sum(rows) AS n FROM system.parts WHERE database = {db:String}"
        " AND table = {table:String} AND active GROUP BY partition",
        {"db": warehouse.database, "table": table},
    )
    return {str(row["partition"]): int(row["n"]) for row in rows}


async def _copy_changed_months(warehouse: Warehouse, step: Rebuild) -> None:
    source = await _month_counts(warehouse, step.table)
    copied = await _month_counts(warehouse, step.new)
    for month in sorted(set(source) | set(copied)):
        if source.get(month) == copied.get(month):
            continue
        if month in copied:
            await warehouse.execute(f"ALTER TABLE {step.new} DROP PARTITION {int(month)}")
        if month in source:
            # Every column by name: `SELECT *` leaves out the MATERIALIZED ones, of which
            # there are none today; the nested `props` go as their two arrays.
            await warehouse.execute(
                f"INSERT INTO {step.new} SELECT * FROM {step.table}"  # noqa: S608 - names from the migration
                f" WHERE {step.partition} = {int(month)}"
            )
        log.info("warehouse_rebuild_month_copied", table=step.table, month=month)
