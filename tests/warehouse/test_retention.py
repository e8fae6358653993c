"""Retention without TTL: which months go whole and which rows are deleted (pure), then the
same on both engines, on a table that is not partitioned by month, on tables that do not exist
yet, and in cluster mode (the SQL, and the `Distributed` + local tables on one real server)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from typing import Any

from tests.warehouse.stats.dataset import store
from tests.warehouse.test_cluster import (  # noqa: F401 - the fixture, reused by name
    RecordingWarehouse,
    SingleServerClusterWarehouse,
    single_shard_server,
)
from tests.warehouse.test_contract import make_row
from traytic.warehouse import Warehouse, WarehouseSettings
from traytic.warehouse.retention import (
    RETENTION_TABLES,
    MonthSite,
    delete_statement,
    drop_partition_statement,
    enforce_retention,
    month_end,
    plan_purge,
    wait_for_mutations,
)


def at(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


FREE_CUTOFF = at("2026-05-15")  # a Free site on 2026-11-15: six months
PRO_CUTOFF = at("2024-11-15")  # a Pro site: two years

# ---- pure


def test_month_end_is_the_next_month_in_utc() -> None:
    assert month_end(202401) == at("2024-02-01")
    assert month_end(202412) == at("2025-01-01")


def test_a_month_goes_whole_only_when_every_site_in_it_is_past_its_cutoff() -> None:
    survey = [
        MonthSite(202401, "free", at("2024-01-03"), 5),
        MonthSite(202401, "pro", at("2024-01-09"), 5),
        MonthSite(202403, "free", at("2024-03-01"), 1),
        MonthSite(202403, "other", at("2024-03-02"), 1),  # no cutoff: keeps March
        MonthSite(202506, "free", at("2025-06-01"), 1),
        MonthSite(202506, "pro", at("2025-06-01"), 1),  # Pro keeps June 2025
        MonthSite(202605, "free", at("2026-05-20"), 1),  # newer than its cutoff
    ]
    cutoffs = {"free": FREE_CUTOFF, "pro": PRO_CUTOFF}
    plan = plan_purge(survey, cutoffs, None)
    assert plan.drop_months == (202401,)
    assert plan.deletes == ((FREE_CUTOFF, ("free",)),)
    # Without drops (a table not partitioned by month) the same rows go by deletes.
    no_drops = plan_purge(survey, cutoffs, None, drops=False)
    assert no_drops.drop_months == ()
    assert no_drops.deletes == ((PRO_CUTOFF, ("pro",)), (FREE_CUTOFF, ("free",)))
    # A default cutoff covers the sites without one: March goes too.
    with_default = plan_purge(survey, cutoffs, at("2024-06-01"))
    assert with_default.drop_months == (202401, 202403)


def test_statements_target_the_local_tables_on_the_cluster() -> None:
    plain, clustered = RecordingWarehouse(), RecordingWarehouse(cluster="analytics")
    assert drop_partition_statement(plain, "events", 202401) == (
        "ALTER TABLE events DROP PARTITION 202401"
    )
    assert drop_partition_statement(clustered, "events", 202401) == (
        "ALTER TABLE traytic.events_local ON CLUSTER analytics DROP PARTITION 202401"
    )
    assert delete_statement(clustered, "events", "ts") == (
        "ALTER TABLE traytic.events_local ON CLUSTER analytics DELETE WHERE site_id IN {sites}"
        " AND ts < toDateTime({cutoff:UInt32})"
    )


# ---- both engines

_ids = count(1)


def rows_at(site_id: str, *days: str) -> list[Any]:
    rows = []
    for day in days:
        n = next(_ids)
        rows.append(make_row(n, site_id=site_id, ts=at(day), event_id=n, session_id=n))
    return rows


async def remaining(warehouse: Warehouse, table: str = "events", time: str = "ts") -> set[Any]:
    result = await warehouse.query(f"SELECT site_id, toString(toDate({time})) AS day FROM {table}")
    return {(row["site_id"], row["day"]) for row in result}


async def events_report(warehouse: Warehouse, cutoffs: dict[str, int], **options: Any) -> Any:
    reports = await enforce_retention(warehouse, cutoffs, **options)
    return next(report for report in reports if report.table == "events")


async def partitions(warehouse: Warehouse, table: str) -> set[str]:
    result = await warehouse.query(
        "SELECT DISTINCT partition FROM system.parts WHERE database = {db} AND table = {t}"
        " AND active",
        {"db": warehouse.database, "t": table},
    )
    return {row["partition"] for row in result}


async def test_free_rows_go_pro_rows_stay_other_sites_untouched(warehouse: Warehouse) -> None:
    await store(
        warehouse,
        [
            *rows_at("st_free", "2024-01-03", "2024-03-01", "2025-06-01", "2026-04-10"),
            *rows_at("st_free", "2026-05-10", "2026-05-20", "2026-11-01"),
            *rows_at("st_pro", "2024-01-09", "2024-03-05", "2025-06-01", "2026-11-01"),
            *rows_at("st_other", "2024-03-02", "2026-04-11"),
        ],
    )
    cutoffs = {"st_free": FREE_CUTOFF, "st_pro": PRO_CUTOFF}
    reports = {r.table: r for r in await enforce_retention(warehouse, cutoffs)}
    assert await wait_for_mutations(warehouse, timeout_s=30)
    assert set(reports) == set(RETENTION_TABLES)
    report = reports["events"]

    assert report.table == "events"
    assert report.dropped_months == [202401]  # the only month with nobody left in it
    assert report.dropped_rows == 2
    assert report.deleted_rows == 5  # free: 03-01, 2025-06-01, 04-10, 05-10; pro: 03-05
    assert await remaining(warehouse) == {
        ("st_free", "2026-05-20"),
        ("st_free", "2026-11-01"),
        ("st_pro", "2025-06-01"),
        ("st_pro", "2026-11-01"),
        ("st_other", "2024-03-02"),
        ("st_other", "2026-04-11"),
    }
    assert "202401" not in await partitions(warehouse, "events")
    # The rollups and visits of the events that went, went with them.
    assert await remaining(warehouse, "sessions", "started") == await remaining(warehouse)
    assert await remaining(warehouse, "daily_stats", "day") == await remaining(warehouse)
    assert await remaining(warehouse, "traffic_quarters", "quarter") == await remaining(warehouse)

    again = await enforce_retention(warehouse, cutoffs)
    assert [(r.dropped_months, r.deleted_rows) for r in again] == [([], 0)] * len(again)


async def test_months_of_purged_sites_are_dropped_whole(warehouse: Warehouse) -> None:
    await warehouse.insert_events(
        [
            *rows_at("st_a", "2025-02-01", "2025-02-27", "2026-10-01"),
            *rows_at("st_b", "2025-02-14", "2026-10-02"),
        ]
    )
    assert await partitions(warehouse, "events") == {"202502", "202610"}
    reports = await enforce_retention(warehouse, {"st_a": FREE_CUTOFF, "st_b": FREE_CUTOFF})
    report = next(r for r in reports if r.table == "events")
    assert report.dropped_months == [202502]
    assert report.deleted_rows == 0
    assert await partitions(warehouse, "events") == {"202610"}
    assert await remaining(warehouse) == {("st_a", "2026-10-01"), ("st_b", "2026-10-02")}


async def test_without_retention_for_a_site_nothing_of_it_goes_unless_a_default_says_so(
    warehouse: Warehouse,
) -> None:
    await warehouse.insert_events(rows_at("st_x", "2020-01-01", "2026-11-01"))
    nothing = await events_report(warehouse, {})
    assert (nothing.dropped_months, nothing.deleted_rows) == ([], 0)
    untouched = await events_report(warehouse, {"st_y": FREE_CUTOFF})
    assert (untouched.dropped_months, untouched.deleted_rows) == ([], 0)
    assert len(await remaining(warehouse)) == 2
    purged = await events_report(warehouse, {}, default_cutoff=FREE_CUTOFF)
    assert purged.dropped_months == [202001]
    assert await remaining(warehouse) == {("st_x", "2026-11-01")}


async def test_every_table_of_the_mapping_is_purged_and_missing_ones_are_skipped(
    warehouse: Warehouse,
) -> None:
    """A table partitioned by month on another column, and one not partitioned by month
    (deletes only), beside `events`; a mapped table that does not exist yet is skipped."""
    await warehouse.execute(
        "CREATE TABLE sessions_t (site_id String, started DateTime('UTC'), n UInt32)"
        " ENGINE = MergeTree() PARTITION BY toYYYYMM(started) ORDER BY (site_id, started)"
    )
    await warehouse.execute(
        "CREATE TABLE daily_t (site_id String, day Date, n UInt32)"
        " ENGINE = MergeTree() PARTITION BY toYear(day) ORDER BY (site_id, day)"
    )
    for table, column in (("sessions_t", "started"), ("daily_t", "day")):
        value = "toDateTime({d:UInt32}, 'UTC')" if column == "started" else "toDate({d:String})"
        for site_id, day in (("st_free", "2025-01-05"), ("st_free", "2026-10-01")):
            await warehouse.execute(
                f"INSERT INTO {table} (site_id, {column}, n) SELECT {{s:String}}, {value}, 1",
                {"s": site_id, "d": at(day) if column == "started" else day},
            )
    tables = {
        **RETENTION_TABLES,
        "sessions_t": "started",
        "daily_t": "toDateTime(day, 'UTC')",
        "not_yet_created": "ts",
    }
    reports = {
        r.table: r
        for r in await enforce_retention(warehouse, {"st_free": FREE_CUTOFF}, tables=tables)
    }
    assert await wait_for_mutations(warehouse, tables, timeout_s=30)
    assert set(reports) == {*RETENTION_TABLES, "sessions_t", "daily_t"}
    assert reports["sessions_t"].dropped_months == [202501]
    assert reports["daily_t"].dropped_months == []  # by year: deleted row by row
    assert reports["daily_t"].deleted_rows == 1
    assert await remaining(warehouse, "sessions_t", "started") == {("st_free", "2026-10-01")}
    assert await remaining(warehouse, "daily_t", "day") == {("st_free", "2026-10-01")}


# ---- cluster mode on one real server (ON CLUSTER and replication need Keeper)


async def test_cluster_mode_drops_and_deletes_in_the_local_tables(
    single_shard_server: Any,  # noqa: F811
) -> None:
    settings = WarehouseSettings(
        clickhouse_url=single_shard_server.url, clickhouse_database="t_retention"
    )
    store = SingleServerClusterWarehouse(settings)
    store.cluster = "single"
    executed: list[str] = []
    execute = store.execute

    async def recording(sql: str, params: Any = None) -> None:
        executed.append(sql)
        await execute(sql, params)

    store.execute = recording  # type: ignore[method-assign]
    try:
        await store.migrate()
        await store.insert_events(
            [
                *rows_at("st_free", "2024-01-03", "2026-04-01", "2026-11-01"),
                *rows_at("st_other", "2026-04-02"),
            ]
        )
        executed.clear()
        report = await events_report(store, {"st_free": FREE_CUTOFF})
        assert await wait_for_mutations(store, timeout_s=30)
        assert [sql for sql in executed if ".events_local" in sql] == [
            "ALTER TABLE t_retention.events_local ON CLUSTER single DROP PARTITION 202401",
            "ALTER TABLE t_retention.events_local ON CLUSTER single DELETE WHERE site_id IN"
            " {sites} AND ts < toDateTime({cutoff:UInt32})",
        ]
        altered = {sql.split()[2] for sql in executed}
        assert {"t_retention.daily_stats_local", "t_retention.traffic_quarters_local"} <= altered
        assert (report.dropped_months, report.deleted_rows) == ([202401], 1)
        assert await remaining(store) == {("st_free", "2026-11-01"), ("st_other", "2026-04-02")}
        assert "202401" not in await partitions(store, "events_local")
    finally:
        await store.drop_database()
        await store.close()
