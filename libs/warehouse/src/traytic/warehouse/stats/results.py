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
    engaged_time: Metric
    """Mean engaged seconds per visit: visible, active time the tracker measured."""
    imports_included: bool | None = None
    """With `imported=true`: whether imported figures were added (not with filters)."""
    sampled: float | None = None
    """The share of visitors read past the sampling limit, its counts scaled up: of a filtered
    report, every figure; of an unfiltered one, the visit figures (visits, bounce rate, visit
    duration, entry and exit pages); absent when exact."""


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
    conversions: Conversions | None = None


class Timeseries(Result):
    range: Range
    interval: str
    buckets: list[Bucket]
    imports_included: bool | None = None
    """With `imported=true`: whether imported figures were added (not with filters)."""
    sampled: float | None = None
    """The share of visitors read past the sampling limit, its counts scaled up: of a filtered
    report, every figure; of an unfiltered one, the visit figures (visits, bounce rate, visit
    duration, entry and exit pages); absent when exact."""


class Row(Result):
    value: str
    visitors: int
    visits: int
    pageviews: int
    parent: str | None = None
    """The broader value for nested dimensions: the browser of a version, the country of a city."""
    conversions: Conversions | None = None
    time_on_page: float | None = None
    """Pages only: mean engaged seconds per view that reported engagement."""
    scroll_depth: float | None = None
    """Pages only: mean deepest scroll per view, percent of the page's height."""


class SessionPage(Result):
    value: str
    visitors: int
    visits: int
    conversions: Conversions | None = None


class Pages(Result):
    range: Range
    pages: list[Row]
    entry_pages: list[SessionPage]
    exit_pages: list[SessionPage]
    imports_included: bool | None = None
    """With `imported=true`: whether imported figures were added (not with filters)."""
    sampled: float | None = None
    """The share of visitors read past the sampling limit, its counts scaled up: of a filtered
    report, every figure; of an unfiltered one, the visit figures (visits, bounce rate, visit
    duration, entry and exit pages); absent when exact."""


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
    imports_included: bool | None = None
    """With `imported=true`: whether imported figures were added (not with filters)."""
    sampled: float | None = None
    """The share of visitors a filtered report read past the sampling limit (its counts are
    scaled up); absent when exact."""


class Countries(Result):
    range: Range
    countries: list[Row]
    regions: list[Row]
    cities: list[Row]
    imports_included: bool | None = None
    """With `imported=true`: whether imported figures were added (not with filters)."""
    sampled: float | None = None
    """The share of visitors a filtered report read past the sampling limit (its counts are
    scaled up); absent when exact."""


class Devices(Result):
    range: Range
    devices: list[Row]
    browsers: list[Row]
    browser_versions: list[Row]
    operating_systems: list[Row]
    os_versions: list[Row]
    screens: list[Row]
    imports_included: bool | None = None
    """With `imported=true`: whether imported figures were added (not with filters)."""
    sampled: float | None = None
    """The share of visitors a filtered report read past the sampling limit (its counts are
    scaled up); absent when exact."""


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
    sampled: float | None = None
    """The share of visitors a filtered report read past the sampling limit (its counts are
    scaled up); absent when exact."""


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
    sampled: float | None = None
    """The share of visitors a filtered report read past the sampling limit (its counts are
    scaled up); absent when exact."""


class PageEngagement(Result):
    value: str
    """The page's path."""
    views: int
    """Views of it (visit and page) that reported engagement."""
    time_on_page: float
    """Mean engaged seconds per view."""
    scroll_depth: float
    """Mean deepest scroll per view, percent of the page's height."""


class LinkRow(Result):
    value: str
    """The URL (without query string or fragment): a link's target, a file, a missing page."""
    events: int
    visitors: int


class Engagement(Result):
    range: Range
    pages: list[PageEngagement]
    outbound_links: list[LinkRow]
    downloads: list[LinkRow]
    not_found: list[LinkRow]


class ErrorRow(Result):
    message: str
    page: str
    source: str
    """Where it was thrown (`https://x.com/app.js:12:7`); empty when the browser did not say."""
    errors: int
    visitors: int
    first_seen: datetime
    last_seen: datetime


class Errors(Result):
    range: Range
    errors: list[ErrorRow]


class Languages(Result):
    range: Range
    languages: list[Row]
    """Primary language tags from Accept-Language (`en-US`), by visitors."""


# ---- conversions (issue 17: goals, funnels and revenue) ------------------------------------


class Conversions(Result):
    """A row's (or bucket's) conversions of the report's goal: converting visitors, conversion
    events, converting visitors / the row's visitors, and for revenue goals the revenue in the
    site's currency (total and per event that carried any)."""

    unique_conversions: int
    total_conversions: int
    conversion_rate: float
    revenue: float | None = None
    average_revenue: float | None = None


class GoalFigures(Result):
    """The conversions of a goal (or of all goals) over a period, with the previous period's."""

    unique_conversions: Metric
    total_conversions: Metric
    conversion_rate: Metric
    revenue: Metric | None = None
    average_revenue: Metric | None = None


class Money(Result):
    currency: str
    """The site's reporting currency, in which every revenue figure of the answer is given."""
    unconverted: list[str] = msgspec.field(default_factory=list)
    """Currencies that revenue was sent in but no exchange rate is known for: counted as 0."""


class GoalConversions(Result):
    id: str
    name: str
    kind: str
    unique_conversions: Metric
    total_conversions: Metric
    conversion_rate: Metric
    revenue: Metric | None = None
    average_revenue: Metric | None = None


class Goals(Result):
    """Every goal of the site with its conversions."""

    range: Range
    previous_range: Range
    visitors: Metric
    goals: list[GoalConversions]
    money: Money


class GoalOverview(Overview, kw_only=True):
    """The overview with a goal's (or all goals') conversions against the previous period."""

    # Keyword-only (msgspec does not inherit it), so they may follow `imports_included`.
    conversions: GoalFigures
    money: Money


class FunnelStep(Result):
    """One step of a funnel: visitors who reached it (and every step before it, in order)."""

    goal_id: str
    name: str
    visitors: int
    previous: int
    """Visitors who reached it in the previous period."""
    conversion_rate: float
    """Visitors / the first step's visitors."""
    step_rate: float
    """Visitors / the step before's visitors (1 for the first step)."""
    dropoff: int
    """Visitors of the step before who did not reach this one (0 for the first step)."""


class FunnelSegment(Result):
    """The funnel of the visitors with one value of the breakdown (their entry visit's)."""

    value: str
    visitors: list[int]
    """Per step."""
    conversion_rate: float
    """Last step / first step."""


class FunnelReport(Result):
    range: Range
    previous_range: Range
    window_minutes: int | None
    """None: all steps within one visit."""
    steps: list[FunnelStep]
    conversion_rate: Metric
    """Visitors who reached the last step / those who reached the first, with the previous
    period's."""
    breakdown: str | None = None
    segments: list[FunnelSegment] = msgspec.field(default_factory=list)
