"""The SQL of a v2 query over the raw `events` table, on ClickHouse 18.16 and chDB alike.

Filters select event rows; every metric counts the selected rows (as our own reports do):

- the **rows** statement groups rows by the dimensions: visitors, pageviews and events (all
  pageviews and custom events, as Plausible counts them), time buckets by each event's time;
- the **visits** statement first groups the rows of each visit (per value of the event and visit
  dimensions), then the visits: visits, bounces (one pageview), durations, entry and exit pages,
  time buckets by the visit's start, as our timeseries does.

Column expressions come from the catalog's whitelist; values are bound parameters.
"""

# ruff: noqa: S608 - the f-strings splice whitelisted expressions, aliases and integers only.

from __future__ import annotations

from collections.abc import Mapping, Sequence

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.measures import UNIQ
from traytic.warehouse.stats.v2.catalog import SESSION_PAGES, TIME_DIMENSIONS
from traytic.warehouse.stats.v2.conditions import Conditions
from traytic.warehouse.stats.v2.query import V2Query

METRIC_ORDER = {
    "visitors": "m_visitors",
    "visits": "m_visits",
    "pageviews": "m_pageviews",
    "events": "m_events",
    "percentage": "m_visitors",
    "bounce_rate": "m_bounces / m_visits",
    "views_per_visit": "m_pageviews / m_visits",
    "visit_duration": "m_duration / m_visits",
}
_TIME_KEYS = {
    "hour": "toUnixTimestamp(toStartOfHour({column}, {{tz}}))",
    "day": "toDate({column}, {{tz}})",
    "week": "toMonday({column}, {{tz}})",
    "month": "toStartOfMonth({column}, {{tz}})",
}


class Builder:
    """The statements of one query, sharing one set of bound parameters."""

    def __init__(self, query: V2Query, region_names: Mapping[str, str] | None = None) -> None:
        self.query = query
        self.conditions = Conditions(query.site_id, query.start, query.end)
        self.params = self.conditions.params
        self.params["tz"] = query.tz
        self.where = f"{self.conditions.rows()} AND {self.conditions.condition(query.filters)}"
        self.region_names = region_names or {}

    def row_expression(self, dimension: str) -> str:
        """A dimension's labelled value on an event row (not a time or session-page one)."""
        if dimension == "visit:region_name":
            codes = sorted(self.region_names)
            region, _ = self.conditions.expression("visit:region")
            return (
                f"transform({region}, {self.conditions.bind(codes)},"
                f" {self.conditions.bind([self.region_names[c] for c in codes])}, '')"
            )
        expression, blank = self.conditions.expression(dimension)
        if blank:
            return f"if({expression} = '', {self.conditions.bind(blank)}, {expression})"
        return expression

    def _row_dimensions(self) -> list[tuple[int, str]]:
        return [
            (n, d)
            for n, d in enumerate(self.query.dimensions)
            if d not in TIME_DIMENSIONS and d not in SESSION_PAGES
        ]

    def _time_key(self, column: str) -> str:
        return _TIME_KEYS[self.query.interval].format(column=column)

    def rows(self) -> Statement:
        """Visitors, pageviews and events per dimension values, over event rows."""
        selected = []
        for n, dimension in enumerate(self.query.dimensions):
            if dimension in TIME_DIMENSIONS:
                selected.append(f"{self._time_key('ts')} AS d{n}")
            else:
                selected.append(f"{self.row_expression(dimension)} AS d{n}")
        return self._grouped(
            selected,
            f"{UNIQ}(visitor_id) AS m_visitors, countIf(type = 'pageview') AS m_pageviews,"
            f" count() AS m_events FROM events WHERE {self.where}",
        )

    def visits(self) -> Statement:
        """Every metric per dimension values, over the selected rows of each visit."""
        inner = [f"{self.row_expression(d)} AS r{n}" for n, d in self._row_dimensions()]
        inner_keys = [f"r{n}" for n, _ in self._row_dimensions()]
        pages = [d for d in self.query.dimensions if d in SESSION_PAGES]
        if "visit:entry_page" in pages:
            inner.append("argMinIf(pathname, ts, type = 'pageview') AS entry_page")
        if "visit:exit_page" in pages:
            inner.append("argMaxIf(pathname, ts, type = 'pageview') AS exit_page")
        visit_rows = (
            f"SELECT {', '.join([*inner, 'session_id'])}, any(visitor_id) AS visitor,"
            " countIf(type = 'pageview') AS pv, count() AS ev,"
            " toUInt32(max(ts)) - toUInt32(min(ts)) AS dur, min(ts) AS started"
            f" FROM events WHERE {self.where} GROUP BY {', '.join([*inner_keys, 'session_id'])}"
        )
        selected = []
        for n, dimension in enumerate(self.query.dimensions):
            if dimension in TIME_DIMENSIONS:
                selected.append(f"{self._time_key('started')} AS d{n}")
            elif dimension in SESSION_PAGES:
                selected.append(f"{SESSION_PAGES[dimension]} AS d{n}")
            else:
                selected.append(f"r{n} AS d{n}")
        having_pages = " WHERE pv > 0" if pages else ""
        return self._grouped(
            selected,
            f"{UNIQ}(visitor) AS m_visitors, count() AS m_visits, sum(pv) AS m_pageviews,"
            " sum(ev) AS m_events, countIf(pv = 1) AS m_bounces, sum(dur) AS m_duration"
            f" FROM ({visit_rows}){having_pages}",
        )

    def _grouped(self, selected: Sequence[str], body: str) -> Statement:
        keys = [f"d{n}" for n in range(len(self.query.dimensions))]
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        return Statement(f"SELECT {', '.join([*selected, body])}{group}", dict(self.params))

    def ordered(self, statement: Statement, *, limit: int, offset: int) -> Statement:
        """`statement` sorted as the query asks (then by every dimension) and paged."""
        terms = []
        for name, direction in self.query.order_by:
            if name in self.query.dimensions:
                terms.append(f"d{self.query.dimensions.index(name)} {direction.upper()}")
            else:
                terms.append(f"{METRIC_ORDER[name]} {direction.upper()}")
        terms.extend(f"d{n}" for n in range(len(self.query.dimensions)))
        return Statement(
            f"{statement.sql} ORDER BY {', '.join(terms)} LIMIT {int(offset)}, {int(limit)}",
            statement.params,
        )

    def counted(self, statement: Statement) -> Statement:
        """How many rows `statement` gives (`include.total_rows`)."""
        return Statement(f"SELECT count() AS total FROM ({statement.sql})", statement.params)

    def total_visitors(self) -> Statement:
        """Visitors of the whole query, without dimensions: what `percentage` divides by."""
        return Statement(
            f"SELECT {UNIQ}(visitor_id) AS m_visitors FROM events WHERE {self.where}",
            dict(self.params),
        )

    def present_regions(self) -> Statement:
        region, _ = self.conditions.expression("visit:region")
        return Statement(
            f"SELECT DISTINCT {region} AS code FROM events WHERE {self.where} AND region != ''",
            dict(self.params),
        )
