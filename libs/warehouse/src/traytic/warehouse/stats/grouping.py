"""How answers are grouped and paged: the breakdown dimensions, the time bucket of a timeseries,
and the page of a list. Column names here are a fixed whitelist spliced into SQL."""

from __future__ import annotations

from dataclasses import dataclass

from traytic.warehouse.stats.params import StatsQuery


@dataclass(frozen=True, slots=True)
class Dimension:
    """A breakdown: the column whose values are ranked, and an optional parent column."""

    column: str
    parent: str | None = None
    skip_empty: bool = False


SOURCE_DIMENSIONS = {
    "sources": Dimension("referrer_source"),
    "referrers": Dimension("referrer", skip_empty=True),
    "channels": Dimension("channel"),
    "utm_sources": Dimension("utm_source", skip_empty=True),
    "utm_mediums": Dimension("utm_medium", skip_empty=True),
    "utm_campaigns": Dimension("utm_campaign", skip_empty=True),
    "utm_terms": Dimension("utm_term", skip_empty=True),
    "utm_contents": Dimension("utm_content", skip_empty=True),
}
GEO_DIMENSIONS = {
    "countries": Dimension("country"),
    "regions": Dimension("region", parent="country", skip_empty=True),
    "cities": Dimension("city", parent="country", skip_empty=True),
}
DEVICE_DIMENSIONS = {
    "devices": Dimension("device"),
    "browsers": Dimension("browser"),
    "browser_versions": Dimension("browser_version", parent="browser", skip_empty=True),
    "operating_systems": Dimension("os"),
    "os_versions": Dimension("os_version", parent="os", skip_empty=True),
    "screens": Dimension("screen"),
}
PAGE_DIMENSION = Dimension("pathname")


def page(query: StatsQuery) -> str:
    """`LIMIT offset, limit` of the page asked for (18.16's LIMIT takes no expressions)."""
    return f"LIMIT {int(query.offset)}, {int(query.limit)}"


def bucket(query: StatsQuery, column: str) -> str:
    """The timeseries bucket of `column` in the query's zone: the hour's first instant (unix
    seconds) or the local date; `{tz}` binds the zone."""
    if query.interval == "hour":
        return f"toUnixTimestamp(toStartOfHour({column}, {{tz}}))"
    return f"toDate({column}, {{tz}})"
