"""One contract suite that every Warehouse backend passes: chDB embedded and the HTTP server."""

from __future__ import annotations

import asyncio
import math
import string
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traytic.warehouse import (
    COLUMNS,
    EventRow,
    Warehouse,
    WarehouseSettings,
    WarehouseUnavailable,
    open_warehouse,
)
from traytic.warehouse.formats import CHDB_FORMATS, SERVER_FORMATS
from traytic.warehouse.server import ServerWarehouse

TS = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def make_row(n: int, **changes: Any) -> EventRow:
    fields: dict[str, Any] = {
        "site_id": "st_demo",
        "ts": TS + n,
        "type": "pageview",
        "name": "",
        "event_id": 1_000 + n,
        "visitor_id": 2**63 + n,
        "session_id": 7,
        "hostname": "example.com",
        "pathname": f"/page/{n}",
        "referrer": "",
        "referrer_source": "",
        "channel": "Direct",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
        "country": "NG",
        "region": "LA",
        "city": "Lagos",
        "browser": "Chrome",
        "browser_version": "126",
        "os": "Android",
        "os_version": "14",
        "device": "mobile",
        "screen": "mobile",
        "language": "en-NG",
        "props_key": [],
        "props_value": [],
        "value": 0.0,
    }
    fields.update(changes)
    return EventRow(**fields)


def as_row(stored: dict[str, Any]) -> EventRow:
    """Rebuild an EventRow from a `SELECT *` row (ts back to Unix seconds)."""
    values = [stored[column] for column in COLUMNS]
    values[1] = int(stored["ts"].timestamp())
    return msgspec.convert(values, EventRow)


async def test_migrate_twice_gives_the_same_result(warehouse: Warehouse) -> None:
    first = await warehouse.migrate()
    second = await warehouse.migrate()
    assert first == second
    assert first[0] == "0001_events"
    rows = await warehouse.query("SELECT name FROM schema_migrations")
    assert {row["name"] for row in rows} == set(first)


async def test_concurrent_migrations_from_two_clients(
    warehouse_settings: WarehouseSettings,
) -> None:
    one, two = open_warehouse(warehouse_settings), open_warehouse(warehouse_settings)
    try:
        first, second = await asyncio.gather(one.migrate(), two.migrate())
        assert first == second == await one.migrate()
        await one.insert_events([make_row(1)])
        assert await two.query("SELECT count() AS n FROM events") == [{"n": 1}]
    finally:
        await one.drop_database()
        await one.close()
        await two.close()


_MIGRATE_SCRIPT = """
import asyncio, sys
from traytic.warehouse import WarehouseSettings, open_warehouse

async def main() -> None:
    settings = WarehouseSettings(clickhouse_url=sys.argv[1], clickhouse_database=sys.argv[2])
    store = open_warehouse(settings)
    print(",".join(await store.migrate()))
    await store.close()

asyncio.run(main())
"""


@pytest.mark.clickhouse
async def test_concurrent_migrations_from_two_processes(
    warehouse_settings: WarehouseSettings,
) -> None:
    if warehouse_settings.clickhouse_url is None:
        pytest.skip("chDB allows one process per data directory")
    command = [
        sys.executable,
        "-c",
        _MIGRATE_SCRIPT,
        warehouse_settings.clickhouse_url,
        warehouse_settings.clickhouse_database,
    ]
    processes = [
        await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE) for _ in range(2)
    ]
    store = open_warehouse(warehouse_settings)
    try:
        outputs = [(await process.communicate())[0] for process in processes]
        assert [process.returncode for process in processes] == [0, 0]
        applied = await store.migrate()
        assert [output.decode().strip().splitlines()[-1] for output in outputs] == [
            ",".join(applied)
        ] * 2
    finally:
        await store.drop_database()
        await store.close()


async def test_rows_read_back_equal_in_every_column(warehouse: Warehouse) -> None:
    rows = [
        make_row(0),
        make_row(
            1,
            type="event",
            name="signup ✓ «ünïcode» 日本語 🚀",
            event_id=2**64 - 1,
            visitor_id=2**63,
            session_id=2**64 - 2,
            pathname="/a'b\"c\\d\ne\tf",
            referrer="https://news.ycombinator.com/item",
            referrer_source="Hacker News",
            channel="Referral",
            utm_source="hn",
            props_key=["plan", "quote'", "", "emoji"],
            props_value=["pro", "back\\slash", "", "🎉"],
            revenue_micros=29_990_000,
            revenue_currency="EUR",
        ),
        make_row(2, type="vital", name="LCP", value=1830.5, country="", city=""),
        make_row(
            3,
            type="error",
            name="TypeError: x is undefined\n  at f (app.js:1)",
            error_source="https://x.com/app.js:1:7",
        ),
        make_row(4, type="vital", name="engagement", engaged_ms=2**32 - 1, scroll_depth=100),
    ]
    await warehouse.insert_events(rows)
    stored = await warehouse.query("SELECT * FROM events ORDER BY ts")
    assert [list(row) for row in stored] == [list(COLUMNS)] * len(rows)
    assert [as_row(row) for row in stored] == rows


@pytest.mark.parametrize("fmt", sorted(CHDB_FORMATS))
async def test_every_insert_format_round_trips(warehouse: Warehouse, fmt: str) -> None:
    formats = SERVER_FORMATS if isinstance(warehouse, ServerWarehouse) else CHDB_FORMATS
    if fmt not in formats:
        pytest.skip(f"{fmt} is not an input format of ClickHouse 18.16")
    row = make_row(
        5,
        name="a'b\\c\nd\te\0 ✓",
        event_id=2**64 - 1,
        props_key=["k'", ""],
        props_value=["\\", "🎉"],
        value=-1.5,
        revenue_micros=10**18,
        revenue_currency="NGN",
        engaged_ms=41_250,
        scroll_depth=87,
        error_source="a'b\\c\td.js:1:2",
    )
    await warehouse.insert_events([row], fmt=fmt)  # type: ignore[call-arg]
    assert [as_row(r) for r in await warehouse.query("SELECT * FROM events")] == [row]


async def test_insert_of_nothing_is_a_no_op(warehouse: Warehouse) -> None:
    await warehouse.insert_events([])
    assert await warehouse.query("SELECT count() AS n FROM events") == [{"n": 0}]


async def test_existing_event_ids(warehouse: Warehouse) -> None:
    await warehouse.insert_events(
        [make_row(0), make_row(1, event_id=2**64 - 1), make_row(2, site_id="st_other")]
    )
    found = await warehouse.existing_event_ids(
        ["st_demo"], TS, TS + 10, [1_000, 2**64 - 1, 1_002, 5]
    )
    assert found == {1_000, 2**64 - 1}  # 1_002 is another site's, 5 was never stored
    # The lookup also bounds the sorting key's UTC day: rows on either side of midnight UTC
    # (in any server time zone) are found by a range that spans it, and only by their own day.
    await warehouse.insert_events([make_row(-1, event_id=9), make_row(86_399, event_id=10)])
    assert await warehouse.existing_event_ids(["st_demo"], TS - 1, TS, [9, 1_000]) == {9, 1_000}
    assert await warehouse.existing_event_ids(["st_demo"], TS, TS + 86_399, [9, 10]) == {10}
    assert await warehouse.existing_event_ids(["st_demo"], TS + 1, TS + 1, [1_000]) == set()
    assert await warehouse.existing_event_ids(["st_demo"], TS, TS + 10, []) == set()
    many = range(1_000, 6_000)  # more ids than fit one lookup query
    assert await warehouse.existing_event_ids(["st_demo", "st_other"], TS, TS + 10, many) == {
        1_000,
        1_002,
    }


async def test_query_binds_typed_values(warehouse: Warehouse) -> None:
    rows = await warehouse.query(
        "SELECT {big:UInt64} AS big, {f} AS f, {s:String} AS s, {ids} AS ids,"
        " 3 IN {members} AS member, toUnixTimestamp({when}) AS when",
        {
            "big": 2**64 - 1,
            "f": -0.5,
            "s": "x",
            "ids": [1, 2**63],
            "members": (1, 2, 3),
            "when": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )
    assert rows == [
        {"big": 2**64 - 1, "f": -0.5, "s": "x", "ids": [1, 2**63], "member": 1, "when": TS}
    ]
    assert math.isnan((await warehouse.query("SELECT {x} AS x", {"x": math.nan}))[0]["x"])


NASTY = st.lists(
    st.one_of(
        st.sampled_from([*"'\"\\`\n\r\t\0{}();-#/*%", "\\'", "' OR 1=1 --", "{v}"]),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=20,
).map("".join)


def _examples(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    """Draw `count` hypothesis examples (hypothesis cannot drive an async test itself)."""
    drawn: list[str] = []

    @settings(max_examples=count, database=None, deadline=None)
    @given(strategy)
    def collect(value: str) -> None:
        drawn.append(value)

    collect()
    return drawn


async def test_bound_strings_cannot_break_out(warehouse: Warehouse) -> None:
    await warehouse.insert_events([make_row(0, name="secret")])
    values = [*_examples(NASTY, 150), string.printable, "\\", "'", "\\'"]
    for value in values:
        rows = await warehouse.query(
            "SELECT {v:String} AS v, count() AS n FROM events WHERE name = {v}", {"v": value}
        )
        assert rows == [{"v": value, "n": 0}], value
        names = await warehouse.query(
            "SELECT name FROM events WHERE name IN {names}", {"names": (value, "secret")}
        )
        assert names == [{"name": "secret"}], value


@pytest.mark.clickhouse
async def test_server_down_raises_warehouse_unavailable(
    warehouse_settings: WarehouseSettings, request: pytest.FixtureRequest
) -> None:
    if warehouse_settings.clickhouse_url is None:
        pytest.skip("chDB runs in-process: it cannot be down")
    server = request.getfixturevalue("clickhouse_server")
    if not server.controllable:
        pytest.skip("the test server is external: not ours to stop")
    store = open_warehouse(warehouse_settings)
    await store.migrate()
    server.stop()
    try:
        assert not await store.ping()
        with pytest.raises(WarehouseUnavailable) as caught:
            await store.insert_events([make_row(0)])
        assert caught.value.status == 503
        with pytest.raises(WarehouseUnavailable):
            await store.query("SELECT 1")
    finally:
        server.start()
    try:
        assert await store.ping()
        await store.insert_events([make_row(0)])
        assert await store.existing_event_ids(["st_demo"], TS, TS, [1_000]) == {1_000}
    finally:
        await store.drop_database()
        await store.close()


async def test_unreachable_server_raises_warehouse_unavailable() -> None:
    from tests.fixtures.clickhouse import free_port

    store = open_warehouse(
        WarehouseSettings(clickhouse_url=f"http://127.0.0.1:{free_port()}", clickhouse_database="x")
    )
    try:
        with pytest.raises(WarehouseUnavailable):
            await store.migrate()
    finally:
        await store.close()


async def test_insert_of_a_client_killed_midway_counts_as_stored(
    warehouse: Warehouse, warehouse_settings: WarehouseSettings
) -> None:
    """A consumer killed after sending an insert: the server still runs it, and the batch's
    redelivery must find those rows stored, not insert them a second time."""
    if warehouse_settings.clickhouse_url is None:
        pytest.skip("chDB runs in-process: its inserts end with the process that made them")
    assert isinstance(warehouse, ServerWarehouse)
    host, _, port = warehouse_settings.clickhouse_url.removeprefix("http://").partition(":")
    # The server takes ~2 s over this insert (sleep), like a large batch on a busy machine.
    query = (
        "INSERT INTO events (site_id, ts, type, event_id)"
        f" SELECT 'st_demo', toDateTime({TS}), 'pageview', toUInt64(4242)"
        " FROM system.one WHERE sleep(2) = 0"
    )
    from urllib.parse import urlencode

    target = "/?" + urlencode(
        {
            "database": warehouse.database,
            "query": query,
            "query_id": "traytic-insert-" + warehouse.database + "-killed",
        }
    )
    _, writer = await asyncio.open_connection(host, int(port.rstrip("/")))
    writer.write(f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode())
    await writer.drain()
    writer.close()  # the client is gone; the server goes on
    await asyncio.sleep(0.3)  # the server has the request
    found = await warehouse.existing_event_ids(["st_demo"], TS, TS, [4242])
    assert found == {4242}
