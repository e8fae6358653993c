"""The raw events of a site as CSV or Parquet: one row per event with the columns we store,
except `visitor_id` (the one that ties a person's visits of a day together). Read one UTC day
at a time (the table's key), so an export of a year never holds more than a day's rows.
"""

# ruff: noqa: S608 - the SQL splices the fixed column list; values are bound parameters.

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from traytic.warehouse.base import Warehouse
from traytic.warehouse.exports.spool import Spool
from traytic.warehouse.rows import EVENT_TYPES
from traytic.warehouse.stats.filters import where
from traytic.warehouse.stats.params import StatsQuery

TEXT_COLUMNS = (
    "type", "name", "hostname", "pathname", "referrer", "referrer_source", "channel",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country", "region",
    "city", "browser", "browser_version", "os", "os_version", "device", "screen", "language",
)  # fmt: skip
EXPORT_COLUMNS = ("ts", "event_id", "session_id", *TEXT_COLUMNS, "props", "value")
"""The exported columns, in order: `props` is a JSON object of the custom event's props."""
_PROPS = msgspec.json.Encoder()
SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("s", tz="UTC")),
        ("event_id", pa.uint64()),
        ("session_id", pa.uint64()),
        *((name, pa.string()) for name in TEXT_COLUMNS),
        ("props", pa.string()),
        ("value", pa.float64()),
    ]
)


def _day_windows(query: StatsQuery) -> list[tuple[datetime, datetime]]:
    windows = []
    start = query.start
    while start < query.end:
        next_day = datetime.combine(
            start.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC
        )
        end = min(next_day, query.end)
        windows.append((start, end))
        start = end
    return windows


async def event_batches(
    warehouse: Warehouse, query: StatsQuery
) -> AsyncIterator[list[dict[str, Any]]]:
    """The query's events (every type, its filters applied), a UTC day per batch, in time order."""
    selected = ", ".join(
        [
            "ts",
            "event_id",
            "session_id",
            *TEXT_COLUMNS,
            "props.key AS keys",
            "props.value AS vals",
            "value",
        ]
    )
    for start, end in _day_windows(query):
        clause, params = where(query, types=EVENT_TYPES, start=start, end=end)
        rows = await warehouse.query(
            f"SELECT {selected} FROM events {clause} ORDER BY ts, event_id", params
        )
        if rows:
            for row in rows:
                row["type"] = str(row["type"])
                row["props"] = _PROPS.encode(
                    dict(zip(row.pop("keys"), row.pop("vals"), strict=True))
                ).decode()
            yield rows


async def events_csv(warehouse: Warehouse, query: StatsQuery) -> AsyncIterator[bytes]:
    """A header line, then the rows of each day as they are read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue().encode()
    async for rows in event_batches(warehouse, query):
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            values = [row[c] for c in EXPORT_COLUMNS]
            values[0] = row["ts"].strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow(values)
        yield buffer.getvalue().encode()


async def events_parquet(warehouse: Warehouse, query: StatsQuery) -> AsyncIterator[bytes]:
    """A Parquet file with a row group per day, each sent once it is written."""
    spool = Spool()
    with pq.ParquetWriter(spool, SCHEMA, compression="zstd") as writer:
        async for rows in event_batches(warehouse, query):
            columns = {name: [row[name] for row in rows] for name in EXPORT_COLUMNS}
            writer.write_table(pa.Table.from_pydict(columns, schema=SCHEMA))
            yield spool.take()
    yield spool.take()
