"""Statements of what the tracker measures beyond page views (issue 18): engaged time and scroll
depth per page, the named events of outbound links, downloads and not-found pages, and errors.
All over the raw `events` table (these rows are few beside page views, and no rollup holds them).

- **time on page**: a page view's engaged time is the sum of its engagement rows (the tracker
  sends the time since its previous one); a page's time on page is the mean over its views, a
  view being a (visit, page) pair, in seconds.
- **scroll depth**: a view's deepest scroll (the largest of its rows), averaged the same way.
- **engaged time** (overview): all engaged time of a period divided by its visits.

Engagement rows carry the beacon's facts (country, device...) but not the referral, which only
page views do: source, channel and UTM filters leave them out, as they do vitals.
"""

# ruff: noqa: S608 - the f-strings splice fixed SQL fragments and validated integers; every
# value is a bound parameter.

from __future__ import annotations

from traytic.warehouse.rows import ENGAGEMENT
from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.filters import where
from traytic.warehouse.stats.grouping import page
from traytic.warehouse.stats.measures import VISITORS
from traytic.warehouse.stats.params import StatsQuery

OUTBOUND_LINK = "Outbound Link: Click"
FILE_DOWNLOAD = "File Download"
NOT_FOUND = "404"
"""The custom events the tracker sends for these (Plausible's names, so its users' goals carry
over); each carries the link's or the page's URL as prop `url`."""
LINK_EVENTS = {"outbound_links": OUTBOUND_LINK, "downloads": FILE_DOWNLOAD, "not_found": NOT_FOUND}

_ENGAGEMENT_ROWS = f" AND name = '{ENGAGEMENT}'"
_ENGAGEMENT_FIRST = f"PREWHERE name = '{ENGAGEMENT}'"
"""Reads the other columns only for engagement rows: 18.16 does not move this condition to
PREWHERE itself and read every column of every event of the range (measured at 1.8M events:
the overview's engaged time 78 -> 23 ms; chDB the same either way)."""
_PER_VIEW = (
    "SELECT session_id, pathname, sum(engaged_ms) AS engaged, max(scroll_depth) AS depth"
    f" FROM events {_ENGAGEMENT_FIRST} {{clause}} GROUP BY session_id, pathname"
)
_PAGE_FIGURES = "count() AS views, avg(engaged) / 1000 AS time_on_page, avg(depth) AS scroll_depth"


def page_engagement(query: StatsQuery, pathnames: tuple[str, ...] | None = None) -> Statement:
    """Views, time on page and scroll depth per page, the most viewed first; only `pathnames`
    when given (the pages report's rows), else a page of all of them."""
    clause, params = where(query, types=("vital",), event_filters=False)
    clause += _ENGAGEMENT_ROWS
    tail = f" ORDER BY views DESC, value {page(query)}"
    if pathnames is not None:
        clause += " AND pathname IN {pathnames}"
        params["pathnames"] = pathnames
        tail = ""
    per_view = _PER_VIEW.format(clause=clause)
    return Statement(
        f"SELECT pathname AS value, {_PAGE_FIGURES} FROM ({per_view}) GROUP BY value{tail}",
        params,
    )


def engaged_time(query: StatsQuery) -> Statement:
    """Engaged milliseconds of this period and the previous one (for the overview)."""
    previous = query.previous()
    clause, params = where(query, types=("vital",), start=previous.start, event_filters=False)
    params["current_start"] = query.start
    return Statement(
        "SELECT ts >= {current_start} AS is_current, sum(engaged_ms) AS engaged"
        f" FROM events {_ENGAGEMENT_FIRST} {clause}{_ENGAGEMENT_ROWS} GROUP BY is_current",
        params,
    )


def link_events(query: StatsQuery, name: str) -> Statement:
    """The URLs of one of `LINK_EVENTS`, by events then visitors."""
    clause, params = where(query, types=("event",), event_filters=False)
    clause += " AND name = {link_event:String} AND prop_key = 'url'"
    params["link_event"] = name
    return Statement(
        f"SELECT prop_value AS value, count() AS events, {VISITORS} AS visitors"
        " FROM events ARRAY JOIN props.key AS prop_key, props.value AS prop_value"
        f" {clause} GROUP BY value ORDER BY events DESC, visitors DESC, value {page(query)}",
        params,
    )


def errors(query: StatsQuery) -> Statement:
    """Errors grouped by message and page: count, visitors, first and last seen, and a place
    it was thrown (the largest source string, so both engines name the same one)."""
    clause, params = where(query, types=("error",), event_filters=False)
    return Statement(
        "SELECT name AS message, pathname AS page, max(error_source) AS source,"
        f" count() AS errors, {VISITORS} AS visitors, min(ts) AS first_seen,"
        f" max(ts) AS last_seen FROM events {clause} GROUP BY message, page"
        f" ORDER BY errors DESC, visitors DESC, message, page {page(query)}",
        params,
    )
