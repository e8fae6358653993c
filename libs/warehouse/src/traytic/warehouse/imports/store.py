"""Imported figures in the warehouse: import jobs (`imports`), their rows (`imported_stats`),
which runs reports read, and the rule that imports never double count.

- An import is a site's data from one tool: its id is the tool's name (`plausible`, `umami`,
  `ga4`), so importing a tool's data again replaces what the last import of it brought.
- Each upload is a new `run`. Its rows are written first; the run is recorded `done` after, and
  readers take only the newest finished run of each import (`visible_runs`): a report never sees
  half an import, nor an old and a new run at once. Older runs' rows are deleted afterwards.
- Days of the file on which the site has native events (from its first native day to its last,
  in the site's time zone) are skipped, and the job says which range it skipped.
"""

# ruff: noqa: S608 - table names are constants here; every value is bound

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import structlog

from traytic.core.errors import InvalidInput
from traytic.warehouse.base import Warehouse
from traytic.warehouse.cluster import LOCAL_SUFFIX
from traytic.warehouse.imports.figures import DailyFigures
from traytic.warehouse.imports.reading import Progress
from traytic.warehouse.sql import quote_literal

log = structlog.get_logger()

Source = Literal["plausible", "umami", "ga4"]
SOURCES: tuple[str, ...] = ("plausible", "umami", "ga4")
Status = Literal["reading", "writing", "done", "failed", "deleted"]
ROWS_PER_INSERT = 2_000
"""Rows per INSERT statement: ~300 KB of values, well within what both engines take at once."""
NO_DAY = date(1970, 1, 1)
"""What a `Date` column holds for "none" (18.16's default)."""
STALE_S = 3600
"""A job still reading or writing an hour after its last update died with its process."""
_COLUMNS = (
    "site_id",
    "import_id",
    "run",
    "dimension",
    "day",
    "value",
    "parent",
    "visitors",
    "visits",
    "pageviews",
    "bounces",
    "visit_duration",
    "events",
)
_JOB_COLUMNS = (
    "site_id, import_id, run, source, file_name, status, message, created_at, updated_at,"
    " done_units, total_units, first_day, last_day, skipped_from, skipped_to, skipped_days,"
    " rows, version"
)


def check_source(source: str) -> Source:
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", field="source")
    return source  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ImportJob:
    """One run of an import, as last recorded."""

    site_id: str
    import_id: str
    run: int
    source: str
    file_name: str
    status: str
    created_at: datetime
    updated_at: datetime
    message: str = ""
    done_units: int = 0
    total_units: int = 0
    first_day: date | None = None
    last_day: date | None = None
    skipped_from: date | None = None
    skipped_to: date | None = None
    skipped_days: int = 0
    rows: int = 0

    @property
    def progress(self) -> float:
        if self.status in ("done", "deleted"):
            return 1.0
        if self.status == "writing":
            return 0.95
        return 0.9 * min(1.0, self.done_units / self.total_units) if self.total_units else 0.0

    def shown_status(self, now: datetime) -> str:
        """Its status, `failed` for a job whose process died mid-way."""
        stale = (now - self.updated_at).total_seconds() > STALE_S
        if self.status in ("reading", "writing") and stale:
            return "failed"
        return self.status


def _day(value: date | None) -> date:
    return value if value is not None else NO_DAY


def _or_none(days: Any) -> date | None:
    """A day read as its number since 1970 (18.16 prints day 0 as 0000-00-00); 0 is none."""
    return NO_DAY + timedelta(days=int(days)) if int(days) else None


def _job(row: dict[str, Any]) -> ImportJob:
    return ImportJob(
        site_id=row["site_id"], import_id=row["import_id"], run=int(row["run"]),
        source=row["source"], file_name=row["file_name"], status=row["status"],
        message=row["message"], created_at=row["created_at"], updated_at=row["updated_at"],
        done_units=int(row["done_units"]), total_units=int(row["total_units"]),
        first_day=_or_none(row["first_day"]), last_day=_or_none(row["last_day"]),
        skipped_from=_or_none(row["skipped_from"]), skipped_to=_or_none(row["skipped_to"]),
        skipped_days=int(row["skipped_days"]), rows=int(row["rows"]),
    )  # fmt: skip


class ImportStore:
    """Import jobs and imported rows of one warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    async def start(self, site_id: str, source: str, file_name: str) -> ImportJob:
        """A new run of the site's import from `source`, recorded as reading."""
        now = datetime.now(UTC).replace(microsecond=0)
        job = ImportJob(
            site_id=site_id, import_id=check_source(source), run=time.time_ns(), source=source,
            file_name=file_name[:255], status="reading", created_at=now, updated_at=now,
        )  # fmt: skip
        await self.record(job)
        return job

    async def record(self, job: ImportJob) -> ImportJob:
        """Write the job's state (a newer version of its row)."""
        job = replace(job, updated_at=datetime.now(UTC).replace(microsecond=0))
        values = (
            job.site_id, job.import_id, job.run, job.source, job.file_name, job.status,
            job.message[:2000], job.created_at, job.updated_at, job.done_units, job.total_units,
            _day(job.first_day), _day(job.last_day), _day(job.skipped_from),
            _day(job.skipped_to), job.skipped_days, job.rows, time.time_ns(),
        )  # fmt: skip
        await self.warehouse.execute(
            f"INSERT INTO imports ({_JOB_COLUMNS}) VALUES {quote_literal(values)}"
        )
        return job

    async def progress(self, job: ImportJob, progress: Progress) -> ImportJob:
        return await self.record(replace(job, done_units=progress.done, total_units=progress.total))

    async def fail(self, job: ImportJob, message: str) -> ImportJob:
        return await self.record(replace(job, status="failed", message=message))

    async def native_days(self, site_id: str, tz: str) -> tuple[date, date] | None:
        """The site's first and last local day with native events."""
        # Unix seconds: 18.16 answers an empty min() as the date 0000-00-00, which no parser takes.
        rows = await self.warehouse.query(
            "SELECT toUInt32(min(ts)) AS first, toUInt32(max(ts)) AS last, count() AS n"
            " FROM events WHERE site_id = {site_id:String}",
            {"site_id": site_id},
        )
        if not rows or not int(rows[0]["n"]):
            return None
        zone = ZoneInfo(tz)
        first, last = (
            datetime.fromtimestamp(int(rows[0][end]), UTC).astimezone(zone).date()
            for end in ("first", "last")
        )
        return first, last

    async def write(self, job: ImportJob, figures: DailyFigures, tz: str) -> ImportJob:
        """Store a run's figures less the days native data covers, then make it the one
        reports read and delete the import's older rows."""
        days = figures.days()
        if not days:
            raise InvalidInput("the file holds no daily figures", field="file")
        native = await self.native_days(job.site_id, tz)
        skipped = [d for d in days if native is not None and native[0] <= d <= native[1]]
        kept = figures.without_days(native[0], native[1]) if skipped and native else figures
        job = replace(
            job, status="writing", first_day=days[0], last_day=days[-1], rows=len(kept),
            skipped_from=skipped[0] if skipped else None,
            skipped_to=skipped[-1] if skipped else None, skipped_days=len(skipped),
            message=(
                f"skipped {skipped[0]} to {skipped[-1]}: the site has its own data on those days"
                if skipped else ""
            ),
        )  # fmt: skip
        job = await self.record(job)
        batch: list[str] = []
        for (dimension, day, value, parent), sums in kept.items():
            batch.append(
                quote_literal(
                    (
                        job.site_id, job.import_id, job.run, dimension, day, value, parent,
                        sums.visitors, sums.visits, sums.pageviews, sums.bounces,
                        sums.visit_duration, sums.events,
                    )
                )
            )  # fmt: skip
            if len(batch) >= ROWS_PER_INSERT:
                await self._insert(batch)
                batch = []
        if batch:
            await self._insert(batch)
        job = await self.record(replace(job, status="done"))
        await self._delete_rows(job.site_id, job.import_id, keep_run=job.run)
        log.info(
            "import_done", site_id=job.site_id, source=job.source, rows=job.rows,
            skipped_days=job.skipped_days,
        )  # fmt: skip
        return job

    async def _insert(self, values: list[str]) -> None:
        await self.warehouse.execute(
            f"INSERT INTO imported_stats ({', '.join(_COLUMNS)}) VALUES {', '.join(values)}"
        )

    async def _delete_rows(self, site_id: str, import_id: str, keep_run: int | None) -> None:
        """Delete an import's rows (all, or all but one run's): a mutation, applied in the
        background; readers already ignore them (`visible_runs`)."""
        table = "imported_stats"
        if self.warehouse.cluster:
            table = (
                f"{self.warehouse.database}.{table}{LOCAL_SUFFIX}"
                f" ON CLUSTER {self.warehouse.cluster}"
            )
        keep = " AND run != {run:UInt64}" if keep_run is not None else ""
        params = {"site_id": site_id, "import_id": import_id, "run": keep_run or 0}
        # A mutation visits every part of the table even when nothing matches (seconds on a
        # large one): none is issued for nothing, as the first import of a tool has.
        found = await self.warehouse.query(
            "SELECT count() AS n FROM imported_stats WHERE site_id = {site_id:String}"
            f" AND import_id = {{import_id:String}}{keep}",
            params,
        )
        if not found or not int(found[0]["n"]):
            return
        await self.warehouse.execute(
            f"ALTER TABLE {table} DELETE WHERE site_id = {{site_id:String}}"
            f" AND import_id = {{import_id:String}}{keep}",
            params,
        )

    async def jobs(self, site_id: str) -> list[ImportJob]:
        """Every run of the site's imports, newest first, each as last recorded."""
        rows = await self.warehouse.query(
            "SELECT site_id, import_id, run, argMax(source, version) AS source,"
            " argMax(file_name, version) AS file_name, argMax(status, version) AS status,"
            " argMax(message, version) AS message, argMax(created_at, version) AS created_at,"
            " argMax(updated_at, version) AS updated_at,"
            " argMax(done_units, version) AS done_units,"
            " argMax(total_units, version) AS total_units,"
            " toUInt16(argMax(first_day, version)) AS first_day,"
            " toUInt16(argMax(last_day, version)) AS last_day,"
            " toUInt16(argMax(skipped_from, version)) AS skipped_from,"
            " toUInt16(argMax(skipped_to, version)) AS skipped_to,"
            " argMax(skipped_days, version) AS skipped_days, argMax(rows, version) AS rows"
            " FROM imports WHERE site_id = {site_id:String}"
            " GROUP BY site_id, import_id, run ORDER BY run DESC",
            {"site_id": site_id},
        )
        return [_job(row) for row in rows]

    async def job(self, site_id: str, run: int) -> ImportJob | None:
        return next((job for job in await self.jobs(site_id) if job.run == run), None)

    async def visible_runs(self, site_id: str) -> tuple[int, ...]:
        """The run whose rows reports read, for each of the site's imports: the newest one
        that finished, unless it was deleted since."""
        newest: dict[str, ImportJob] = {}
        for job in await self.jobs(site_id):
            if job.status in ("done", "deleted") and job.import_id not in newest:
                newest[job.import_id] = job
        return tuple(sorted(job.run for job in newest.values() if job.status == "done"))

    async def first_day(self, site_id: str) -> date | None:
        """The first day of the imported data reports read (None without any)."""
        runs = set(await self.visible_runs(site_id))
        days = [job.first_day for job in await self.jobs(site_id) if job.run in runs]
        return min((day for day in days if day is not None), default=None)

    async def delete(self, site_id: str, import_id: str) -> bool:
        """Take an import out of the reports and delete its rows; False when there is none."""
        check_source(import_id)
        shown = [
            job
            for job in await self.jobs(site_id)
            if job.import_id == import_id and job.run in await self.visible_runs(site_id)
        ]
        if not shown:
            return False
        await self.record(replace(shown[0], status="deleted"))
        await self._delete_rows(site_id, import_id, keep_run=None)
        return True
