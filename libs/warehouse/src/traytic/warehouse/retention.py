"""Retention without TTL (ClickHouse 18.16 has none): delete what is older than each site's
cutoff, by dropping whole monthly partitions where possible and by `ALTER TABLE ... DELETE`
mutations otherwise.

The caller decides the cutoffs (billing: from each organisation's plan); this module decides
how to apply them. A month partition is dropped only when every site with rows in it has a
cutoff at or after the month's end (a site without a cutoff keeps its rows and so keeps the
month); the rest is deleted per site with `site_id IN (...) AND <time> < cutoff`, one mutation
per distinct cutoff and only for sites that do have older rows (a mutation rewrites parts, so
none is issued for nothing). In cluster mode (`TRAYTIC_CLICKHOUSE_CLUSTER`) drops and mutations
target the replicated `<table>_local` tables `ON CLUSTER`; reads go through the `Distributed`
tables as every other read does.
"""

# ruff: noqa: S608 - the f-strings splice table names checked against _TABLE_NAME and time
# expressions from RETENTION_TABLES (code, never input); values are bound as parameters.

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from traytic.warehouse.base import Warehouse
from traytic.warehouse.cluster import LOCAL_SUFFIX

log = structlog.get_logger()

RETENTION_TABLES: dict[str, str] = {
    "events": "ts",
    "traffic_hours": "hour",
    "traffic_quarters": "quarter",
    "daily_stats": "toDateTime(day, 'UTC')",
    "sessions": "started",
    "imported_stats": "toDateTime(day, 'UTC')",
}
"""Table → the expression of its row time (a `DateTime`, e.g. `toDateTime(day, 'UTC')` for a
`Date` column). Every table with per-site rows belongs here; one that does not exist yet is
skipped. Partitions are dropped only from a table `PARTITION BY toYYYYMM(<that expression>)`;
any other table is purged by deletes alone."""

_DATE_AS_TIME = re.compile(r"toDateTime\((\w+),'UTC'\)")
SITES_PER_STATEMENT = 1_000
"""Site ids per survey or mutation: keeps each statement well under 18.16's `max_query_size`."""


@dataclass(frozen=True, slots=True)
class MonthSite:
    """A site's rows in one month partition, older than the latest cutoff."""

    month: int
    """The partition: `toYYYYMM` of the row time, e.g. 202611."""
    site_id: str
    oldest: int
    """Unix seconds of the site's oldest row in that month."""
    rows: int


@dataclass(frozen=True, slots=True)
class PurgePlan:
    """What to do to one table: whole months to drop, then sites to delete from per cutoff."""

    drop_months: tuple[int, ...]
    deletes: tuple[tuple[int, tuple[str, ...]], ...]
    """(cutoff, site ids) pairs, each one `DELETE WHERE site_id IN ... AND time < cutoff`."""


@dataclass(slots=True)
class TableRetention:
    """What a run did to one table (also what it logged)."""

    table: str
    dropped_months: list[int] = field(default_factory=list)
    dropped_rows: int = 0
    deleted_rows: int = 0
    """Rows matched by the delete mutations when they were issued."""
    deleted_sites: int = 0


def month_end(month: int) -> int:
    """Unix seconds of the first instant after the `toYYYYMM` month (UTC)."""
    year, number = divmod(month, 100)
    following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return int(following.timestamp())


def plan_purge(
    survey: Iterable[MonthSite],
    cutoffs: Mapping[str, int],
    default_cutoff: int | None,
    *,
    drops: bool = True,
) -> PurgePlan:
    """Pure: the months whose every site is past its cutoff for the whole month (none when
    `drops` is false), and per cutoff the sites that still have older rows in the others."""
    by_month: dict[int, list[MonthSite]] = defaultdict(list)
    for entry in survey:
        by_month[entry.month].append(entry)

    def cutoff_of(site_id: str) -> int | None:
        return cutoffs.get(site_id, default_cutoff)

    drop: list[int] = []
    to_delete: dict[int, set[str]] = defaultdict(set)
    for month, entries in sorted(by_month.items()):
        end = month_end(month)
        if drops and all((c := cutoff_of(e.site_id)) is not None and c >= end for e in entries):
            drop.append(month)
            continue
        for entry in entries:
            cutoff = cutoff_of(entry.site_id)
            if cutoff is not None and entry.oldest < cutoff:
                to_delete[cutoff].add(entry.site_id)
    return PurgePlan(
        tuple(drop),
        tuple((cutoff, tuple(sorted(sites))) for cutoff, sites in sorted(to_delete.items())),
    )


def _target(warehouse: Warehouse, table: str) -> str:
    """The table an `ALTER` must name: the local replicated table on every node in cluster
    mode (a `Distributed` table takes no mutations or partition drops)."""
    if warehouse.cluster:
        return f"{warehouse.database}.{table}{LOCAL_SUFFIX} ON CLUSTER {warehouse.cluster}"
    return table


def drop_partition_statement(warehouse: Warehouse, table: str, month: int) -> str:
    return f"ALTER TABLE {_target(warehouse, table)} DROP PARTITION {int(month)}"


def delete_statement(warehouse: Warehouse, table: str, time_expression: str) -> str:
    """Binds `sites` (a tuple) and `cutoff` (unix seconds)."""
    return (
        f"ALTER TABLE {_target(warehouse, table)} DELETE WHERE site_id IN {{sites}}"
        f" AND {time_expression} < toDateTime({{cutoff:UInt32}})"
    )


def _chunks(items: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    for offset in range(0, len(items), SITES_PER_STATEMENT):
        yield items[offset : offset + SITES_PER_STATEMENT]


_SPACES = re.compile(r"\s+")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


async def _storage_tables(warehouse: Warehouse, tables: Iterable[str]) -> dict[str, str]:
    """Existing tables among `tables` → the partition key of the table that holds the rows
    (`<table>_local` in cluster mode)."""
    names = sorted(tables)
    storage = {name: name + LOCAL_SUFFIX if warehouse.cluster else name for name in names}
    rows = await warehouse.query(
        "SELECT name, partition_key FROM system.tables WHERE database = {database}"
        " AND name IN {names}",
        {"database": warehouse.database, "names": (*names, *storage.values())},
    )
    keys = {row["name"]: str(row["partition_key"]) for row in rows}
    return {name: keys[storage[name]] for name in names if name in keys and storage[name] in keys}


async def _survey(
    warehouse: Warehouse, table: str, time_expression: str, before: int
) -> list[MonthSite]:
    rows = await warehouse.query(
        f"SELECT toYYYYMM({time_expression}) AS month, site_id,"
        f" toUInt32(min({time_expression})) AS oldest, count() AS rows FROM {table}"
        f" WHERE {time_expression} < toDateTime({{before:UInt32}}) GROUP BY month, site_id",
        {"before": before},
    )
    return [
        MonthSite(int(r["month"]), str(r["site_id"]), int(r["oldest"]), int(r["rows"]))
        for r in rows
    ]


async def _count_older(
    warehouse: Warehouse, table: str, time_expression: str, sites: tuple[str, ...], cutoff: int
) -> int:
    rows = await warehouse.query(
        f"SELECT count() AS rows FROM {table} WHERE site_id IN {{sites}}"
        f" AND {time_expression} < toDateTime({{cutoff:UInt32}})",
        {"sites": sites, "cutoff": cutoff},
    )
    return int(rows[0]["rows"]) if rows else 0


def _monthly_keys(time_expression: str) -> set[str]:
    """Partition keys that cut by the month of `time_expression`: `toYYYYMM(day)` too for a
    `toDateTime(day, 'UTC')` (18.16 compares a bare `Date` with a `DateTime` as numbers)."""
    expression = _SPACES.sub("", time_expression)
    keys = {f"toYYYYMM({expression})"}
    date_column = _DATE_AS_TIME.fullmatch(expression)
    if date_column is not None:
        keys.add(f"toYYYYMM({date_column.group(1)})")
    return keys


async def purge_table(
    warehouse: Warehouse,
    table: str,
    time_expression: str,
    cutoffs: Mapping[str, int],
    *,
    default_cutoff: int | None = None,
    partition_key: str = "",
) -> TableRetention:
    """Apply the cutoffs to one existing table; see the module docstring."""
    result = TableRetention(table)
    known = [*cutoffs.values(), *([] if default_cutoff is None else [default_cutoff])]
    if not known:
        return result
    survey = await _survey(warehouse, table, time_expression, max(known))
    monthly = _SPACES.sub("", partition_key) in _monthly_keys(time_expression)
    if not monthly:
        log.warning(
            "retention_partitions_not_monthly",
            table=table,
            partition_key=partition_key,
            hint=f"only a table PARTITION BY toYYYYMM({time_expression}) loses whole months",
        )
    plan = plan_purge(survey, cutoffs, default_cutoff, drops=monthly)
    for month in plan.drop_months:
        entries = [e for e in survey if e.month == month]
        await warehouse.execute(drop_partition_statement(warehouse, table, month))
        rows = sum(e.rows for e in entries)
        result.dropped_months.append(month)
        result.dropped_rows += rows
        log.info(
            "retention_partition_dropped",
            table=table,
            partition=month,
            rows=rows,
            sites=len({e.site_id for e in entries}),
        )
    for cutoff, sites in plan.deletes:
        for chunk in _chunks(sites):
            rows = await _count_older(warehouse, table, time_expression, chunk, cutoff)
            if rows == 0:
                continue
            await warehouse.execute(
                delete_statement(warehouse, table, time_expression),
                {"sites": chunk, "cutoff": cutoff},
            )
            result.deleted_rows += rows
            result.deleted_sites += len(chunk)
            log.info(
                "retention_rows_deleted",
                table=table,
                before=datetime.fromtimestamp(cutoff, UTC).isoformat(),
                sites=len(chunk),
                rows=rows,
            )
    return result


async def enforce_retention(
    warehouse: Warehouse,
    cutoffs: Mapping[str, int],
    *,
    default_cutoff: int | None = None,
    tables: Mapping[str, str] | None = None,
) -> list[TableRetention]:
    """Delete rows older than `cutoffs[site_id]` (unix seconds) from every table of `tables`
    (default `RETENTION_TABLES`) that exists; sites absent from `cutoffs` get `default_cutoff`,
    and with None they are left alone. Mutations run in the background on the server: see
    `wait_for_mutations`."""
    tables = dict(RETENTION_TABLES if tables is None else tables)
    for name in tables:
        if not _TABLE_NAME.match(name):
            raise ValueError(f"invalid table name {name!r} in the retention tables")
    existing = await _storage_tables(warehouse, tables)
    for missing in sorted(set(tables) - set(existing)):
        log.debug("retention_table_missing", table=missing)
    return [
        await purge_table(
            warehouse,
            table,
            tables[table],
            cutoffs,
            default_cutoff=default_cutoff,
            partition_key=existing[table],
        )
        for table in sorted(existing)
    ]


async def pending_mutations(warehouse: Warehouse, tables: Iterable[str] | None = None) -> int:
    """Mutations not yet done on the tables (on the server answering; per node in a cluster)."""
    names = sorted(RETENTION_TABLES if tables is None else tables)
    if warehouse.cluster:
        names = [name + LOCAL_SUFFIX for name in names]
    rows: list[dict[str, Any]] = await warehouse.query(
        "SELECT count() AS pending FROM system.mutations WHERE database = {database}"
        " AND table IN {names} AND is_done = 0",
        {"database": warehouse.database, "names": tuple(names)},
    )
    return int(rows[0]["pending"]) if rows else 0


async def wait_for_mutations(
    warehouse: Warehouse,
    tables: Iterable[str] | None = None,
    *,
    timeout_s: float = 60.0,
    poll_s: float = 0.05,
) -> bool:
    """Wait until the tables' mutations are done; False if some are still running at the
    timeout (they go on in the background)."""
    names = list(RETENTION_TABLES if tables is None else tables)
    deadline = time.monotonic() + timeout_s
    while await pending_mutations(warehouse, names):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll_s)
    return True
