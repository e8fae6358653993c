"""Data out: `GET /api/events/{siteId}/export` (every report of the period, as CSV files in a
ZIP) and `GET /api/events/{siteId}/export/events?format=csv|parquet` (the raw events). Both take
the stats API's period, filters and `segment`, have its access rules, and stream their answer
as it is produced. A raw export reads every event of the range, a UTC day at a time."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import Parameter
from litestar.response import Stream

from traytic.db.models import Site
from traytic.query.endpoints.stats import provide_stats, provide_stats_query, provide_stats_site
from traytic.warehouse.exports import events_csv, events_parquet, reports_zip
from traytic.warehouse.stats import Stats, StatsQuery
from traytic.warehouse.stats.params import MAX_LIMIT

Format = Literal["csv", "parquet"]


def _filename(site: Site, query: StatsQuery, suffix: str) -> str:
    zone = query.zone
    first = query.start.astimezone(zone).date().isoformat()
    last = (query.end - timedelta(seconds=1)).astimezone(zone).date().isoformat()
    return f"{site.domain}-{first}-{last}{suffix}".replace("/", "_")


class ExportController(Controller):
    path = "/api/events/{site_id:str}/export"
    tags = ["exports"]
    dependencies = {
        "site": Provide(provide_stats_site),
        "stats": Provide(provide_stats, sync_to_thread=False),
        "stats_query": Provide(provide_stats_query),
    }

    @get("/")
    async def export_reports(
        self,
        site: NamedDependency[Site],
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
    ) -> Stream:
        """Every report (up to 1000 rows each) as CSV files in a ZIP."""
        query = dataclasses.replace(stats_query, limit=MAX_LIMIT, page=1)
        return Stream(
            reports_zip(stats, query),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{_filename(site, query, ".zip")}"'
            },
        )

    @get("/events")
    async def export_events(
        self,
        site: NamedDependency[Site],
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        format: Annotated[Format, Parameter(description="csv (default) or parquet.")] = "csv",
    ) -> Stream:
        """One row per event (every type, the filters applied), without visitor ids."""
        if format == "parquet":
            body, media, suffix = (
                events_parquet(stats.warehouse, stats_query),
                "application/vnd.apache.parquet",
                ".parquet",
            )
        else:
            body, media, suffix = (
                events_csv(stats.warehouse, stats_query),
                "text/csv; charset=utf-8",
                ".csv",
            )
        name = _filename(site, stats_query, "-events" + suffix)
        return Stream(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
