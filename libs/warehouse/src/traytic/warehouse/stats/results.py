"""The answers of the stats queries: msgspec Structs, camelCase on the wire, so the query
service returns them as they are (one definition of each response)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Result(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """Base of every stats answer."""


class Range(Result):
    start: datetime
    """First instant included, in the site's (or the requested) time zone."""
    end: datetime
    """First instant after the range."""
    tz: str


class Metric(Result):
    value: float
    previous: float
    """The same metric over the previous period of equal length."""


class Overview(Result):
    range: Range
    previous_range: Range
    visitors: Metric
    visits: Metric
    pageviews: Metric
    views_per_visit: Metric
    bounce_rate: Metric
    """Share (0..1) of visits with exactly one pageview."""
    visit_duration: Metric
    """Mean seconds between a visit's first and last event."""
    events: Metric
    """Custom events."""


class Bucket(Result):
    start: datetime
    visitors: int
    visits: int
    """Visits that start in this bucket."""
    pageviews: int
    views_per_visit: float
    bounce_rate: float
    visit_duration: float
    events: int


class Timeseries(Result):
    range: Range
    interval: str
    buckets: list[Bucket]


class Row(Result):
    value: str
    visitors: int
    visits: int
    pageviews: int
    parent: str | None = None
    """The broader value for nested dimensions: the browser of a version, the country of a city."""


class SessionPage(Result):
    value: str
    visitors: int
    visits: int


class Pages(Result):
    range: Range
    pages: list[Row]
    entry_pages: list[SessionPage]
    exit_pages: list[SessionPage]


class Sources(Result):
    range: Range
    sources: list[Row]
    """Referrer sources (`Google`, a host...); the empty value is direct traffic."""
    referrers: list[Row]
    channels: list[Row]
    utm_sources: list[Row]
    utm_mediums: list[Row]
    utm_campaigns: list[Row]
    utm_terms: list[Row]
    utm_contents: list[Row]


class Countries(Result):
    range: Range
    countries: list[Row]
    regions: list[Row]
    cities: list[Row]


class Devices(Result):
    range: Range
    devices: list[Row]
    browsers: list[Row]
    browser_versions: list[Row]
    operating_systems: list[Row]
    os_versions: list[Row]
    screens: list[Row]


class Vital(Result):
    metric: str
    p75: float
    p95: float
    samples: int
    good: float
    needs_improvement: float
    poor: float
    """Shares (0..1) of samples by the web.dev thresholds."""
    route: str | None = None
    """The pathname; absent on the site-wide figure."""


class Vitals(Result):
    range: Range
    overall: list[Vital]
    routes: list[Vital]


class LiveEvent(Result):
    ts: datetime
    type: str
    name: str
    pathname: str
    source: str
    country: str
    city: str
    device: str
    browser: str
    os: str


class Live(Result):
    visitors: int
    """Distinct visitors in the last five minutes."""
    since: datetime
    events: list[LiveEvent]


class PropValue(Result):
    key: str
    value: str
    events: int
    visitors: int


class EventName(Result):
    name: str
    events: int
    visitors: int
    props: list[PropValue]


class Events(Result):
    range: Range
    events: list[EventName]
