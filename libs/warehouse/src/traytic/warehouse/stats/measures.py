"""What each number of the stats means: every metric defined once, as the SQL that counts it and,
for the ratios, the Python that divides. Statements over the raw events (`raw.py`) and over the
rollups and visits (`rollups.py`) both build on these, which is what keeps their answers equal.

- **visitors**: distinct visitor ids (`UNIQ`). A visitor id is a keyed hash of the day's salt,
  so a person who returns on another day counts again.
- **visits**: distinct session ids; a visit ends after 30 minutes without an event.
- **pageviews**, **events**: rows of type `pageview` and `event` (custom events).
- **bounce**: a visit with exactly one pageview (`BOUNCES`); bounce rate = bounces / visits.
- **duration**: a visit's last event time minus its first, in seconds; visit duration = the
  summed durations / visits.
- **views per visit**: pageviews / visits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNIQ = "uniqCombined(14)"
"""Distinct visitors and visits: exact up to about a thousand, then HyperLogLog with 2^14 cells
(~0.8% error); its states are small, so merging a month of daily states costs milliseconds
(`uniq`'s states of 64k hashes made the rollups as slow as the raw table)."""
UNIQ_STATE = "uniqCombinedState(14)"
UNIQ_MERGE = "uniqCombinedMerge(14)"
"""`UNIQ` as a state and its merge: the rollups hold these states, and merging them gives what
`UNIQ` over the same rows gives."""

VISITORS = f"{UNIQ}(visitor_id)"
VISITS = f"{UNIQ}(session_id)"
PAGEVIEWS = "countIf(type = 'pageview')"
EVENTS = "countIf(type = 'event')"
"""Over event rows."""

PAGEVIEWS_STATE = "sumState(toUInt64(type = 'pageview'))"
EVENTS_STATE = "sumState(toUInt64(type = 'event'))"
"""`PAGEVIEWS` and `EVENTS` as the rollups' `sum` states (merged with `sumMerge`)."""

VISIT_DURATION = "toUInt32(max(ts)) - toUInt32(min(ts))"
"""A visit's duration over its event rows (grouped by `session_id`)."""
STORED_VISIT_DURATION = "toUInt32(last_ts) - toUInt32(first_ts)"
"""The same over a row of the `sessions` table (its first and last event times)."""

BOUNCES = "countIf(pageviews = 1)"
"""Bounced visits: those with exactly one pageview, over rows of one visit each that carry the
visit's `pageviews` (a visit with custom events but one pageview still bounced)."""


def visit_totals(duration: str) -> str:
    """Visits, bounces and summed durations over rows of one visit each (a `pageviews` column
    and `duration`, the SQL of that visit's duration)."""
    return f"count() AS visits, {BOUNCES} AS bounces, sum({duration}) AS duration"


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def period_figures(traffic: Mapping[str, Any], visits: Mapping[str, Any]) -> dict[str, float]:
    """Every overview figure of one period (or bucket) from its traffic row (visitors,
    pageviews, events) and its visits row (visits, bounces, duration); absent rows count 0."""
    visit_count = int(visits.get("visits", 0))
    pageviews = int(traffic.get("pageviews", 0))
    return {
        "visitors": int(traffic.get("visitors", 0)),
        "visits": visit_count,
        "pageviews": pageviews,
        "views_per_visit": ratio(pageviews, visit_count),
        "bounce_rate": ratio(int(visits.get("bounces", 0)), visit_count),
        "visit_duration": ratio(int(visits.get("duration", 0)), visit_count),
        "events": int(traffic.get("events", 0)),
    }
