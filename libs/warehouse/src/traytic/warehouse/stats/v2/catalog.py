"""What a v2 query may name: its metrics and dimensions, each mapped once to what we store.

Dimensions follow Plausible's Stats API v2 names. `visit:` dimensions are columns every event
row carries (its visit's source, place and device); `visit:entry_page` and `visit:exit_page` are
computed per visit; `time*` buckets the range. Names we cannot answer yet are listed with the
reason, so the API says so instead of "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass

METRICS = (
    "visitors",
    "visits",
    "pageviews",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
    "events",
    "percentage",
)
SESSION_METRICS = frozenset({"bounce_rate", "views_per_visit", "visit_duration"})
"""Metrics of whole visits: with an event dimension only `event:page` and `event:hostname` allow
them (each row then reads as the query filtered on that page or hostname)."""
VISIT_METRICS = frozenset({"visits", *SESSION_METRICS})
"""Metrics that need the rows grouped by visit first."""

NOT_YET: dict[str, str] = {
    "conversion_rate": "goals",
    "group_conversion_rate": "goals",
    "total_revenue": "revenue goals",
    "average_revenue": "revenue goals",
    "time_on_page": "engagement metrics",
    "scroll_depth": "engagement metrics",
    "event:goal": "goals",
    "visit:entry_page_hostname": "entry and exit hostnames",
    "visit:exit_page_hostname": "entry and exit hostnames",
}
"""Plausible names Traytic does not answer yet, and the feature each waits for."""


@dataclass(frozen=True, slots=True)
class Column:
    """A dimension read from one `events` column (a fixed whitelist spliced into SQL)."""

    name: str
    column: str
    blank: str = ""
    """What an empty value reads as in answers and filters (Plausible's labels)."""


EVENT_COLUMNS: dict[str, Column] = {
    "event:page": Column("event:page", "pathname"),
    "event:hostname": Column("event:hostname", "hostname"),
    "event:name": Column("event:name", "if(type = 'pageview', 'pageview', name)"),
}
VISIT_COLUMNS: dict[str, Column] = {
    "visit:source": Column("visit:source", "referrer_source", "Direct / None"),
    "visit:referrer": Column("visit:referrer", "referrer", "Direct / None"),
    "visit:channel": Column("visit:channel", "channel", "(not set)"),
    "visit:utm_source": Column("visit:utm_source", "utm_source", "(not set)"),
    "visit:utm_medium": Column("visit:utm_medium", "utm_medium", "(not set)"),
    "visit:utm_campaign": Column("visit:utm_campaign", "utm_campaign", "(not set)"),
    "visit:utm_content": Column("visit:utm_content", "utm_content", "(not set)"),
    "visit:utm_term": Column("visit:utm_term", "utm_term", "(not set)"),
    "visit:device": Column("visit:device", "device", "(not set)"),
    "visit:browser": Column("visit:browser", "browser", "(not set)"),
    "visit:browser_version": Column("visit:browser_version", "browser_version", "(not set)"),
    "visit:os": Column("visit:os", "os", "(not set)"),
    "visit:os_version": Column("visit:os_version", "os_version", "(not set)"),
    "visit:screen": Column("visit:screen", "screen", "(not set)"),
    "visit:country": Column("visit:country", "country"),
    "visit:region": Column("visit:region", "if(region = '', '', concat(country, '-', region))"),
    "visit:city": Column("visit:city", "city"),
    "visit:city_name": Column("visit:city_name", "city"),
}
"""`visit:region` answers ISO 3166-2 codes (`DE-BE`) as Plausible does; we store the part after
the country. `visit:city` answers the city's name: we keep no GeoName ids."""

PLACE_NAMES = frozenset({"visit:country_name", "visit:region_name"})
"""Names looked up from the stored codes (see `places.py`)."""
SESSION_PAGES = {"visit:entry_page": "entry_page", "visit:exit_page": "exit_page"}
"""Dimensions of a visit's first and last pageview: computed per visit from its rows."""
TIME_DIMENSIONS = ("time", "time:hour", "time:day", "time:week", "time:month")
PROPS_PREFIX = "event:props:"
MAX_PROP_NAME = 300

EVENT_DIMENSIONS = frozenset({*EVENT_COLUMNS, "event:goal"})
"""Event dimensions (plus `event:props:*`): each row of the answer is one event's value."""
PAGE_LIKE = frozenset({"event:page", "event:hostname"})
"""Event dimensions that session metrics may go with."""


def is_event_dimension(name: str) -> bool:
    return name in EVENT_DIMENSIONS or name.startswith(PROPS_PREFIX)


def known_dimension(name: str) -> bool:
    return (
        name in EVENT_COLUMNS
        or name in VISIT_COLUMNS
        or name in PLACE_NAMES
        or name in SESSION_PAGES
        or name in TIME_DIMENSIONS
        or (name.startswith(PROPS_PREFIX) and 0 < len(name) - len(PROPS_PREFIX) <= MAX_PROP_NAME)
    )
