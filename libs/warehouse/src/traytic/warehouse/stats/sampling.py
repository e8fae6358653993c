"""Sampling past a configured number of events (issue 16), as Plausible does: a report whose raw
statements would read more than `StatsQuery.sample_above` events reads `SAMPLE r` of them
(`events` is sampled by visitor, migration 0005: a visitor comes whole, with every visit and
event) and multiplies its counts by 1 / r; the answer says `sampled: r`. Ratios (bounce rate,
views per visit, shares of vital ratings) and quantiles are estimated from the sample as they
are. Reads of the rollups (thousands of rows) are never sampled, nor the live view.

Unfiltered reports read the rollups, exact, but for their visit figures (visits, bounces,
duration, entry and exit pages): those come from `sessions`, a row per visit, some 22M a month
at 100M events. Past the limit they are read from a sample of it (migration 0030) and scaled;
the answer says so as well.

The size of a read is estimated from `traffic_hours` (pageviews and custom events of the
site's hours in the range: a few hundred rows), so deciding costs milliseconds."""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.params import StatsQuery

if TYPE_CHECKING:
    from traytic.warehouse.base import Warehouse

SCALED = frozenset(
    {"visitors", "visits", "pageviews", "events", "bounces", "duration", "samples", "good", "poor"}
)
"""Columns of raw statements' rows that count visitors, visits or events: scaled by 1 / r."""
MIN_RATE = 0.001


def share(query: StatsQuery) -> float | None:
    """The share the query samples; None when it reads everything (`sample` 1.0 says it was
    decided so, None that it was not decided yet)."""
    sample = query.sample
    return None if sample is None or sample == 1.0 else sample


def events_table(query: StatsQuery) -> str:
    """`events`, or `events SAMPLE r` when the query reads a sample."""
    sample = share(query)
    return "events" if sample is None else f"events SAMPLE {sample!r}"


def sessions_table(query: StatsQuery) -> str:
    """`sessions FINAL`, or `sessions FINAL SAMPLE r`: the same visitors as `events_table`
    (migration 0030 keys both by visitor)."""
    sample = share(query)
    return "sessions FINAL" if sample is None else f"sessions FINAL SAMPLE {sample!r}"


def scale(query: StatsQuery) -> float:
    sample = share(query)
    return 1.0 if sample is None else 1.0 / sample


def rate(estimate: int, sample_above: int) -> float | None:
    """The share to read of about `estimate` events so that about `sample_above` are read,
    rounded down to two significant digits (0.1, 0.25, 0.012); None when all fit."""
    if estimate <= sample_above:
        return None
    wanted = sample_above / estimate
    unit = 10.0 ** (math.floor(math.log10(wanted)) - 1)
    return max(MIN_RATE, round(math.floor(wanted / unit) * unit, 12))


def estimate(query: StatsQuery) -> Statement:
    """About how many traffic events the query's range holds (whole hours around it)."""
    return Statement(
        "SELECT sumMerge(pageviews) + sumMerge(events) AS n FROM traffic_hours"
        " WHERE site_id = {site_id:String} AND hour >= toStartOfHour({start}) AND hour < {end}",
        {"site_id": query.site_id, "start": query.start, "end": query.end},
    )


def scaled_rows(rows: list[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    """`rows` with their counts multiplied by `factor` (rounded: counts stay whole)."""
    if factor == 1.0:
        return rows
    return [
        {
            name: round(value * factor) if name in SCALED and isinstance(value, int) else value
            for name, value in row.items()
        }
        for row in rows
    ]


ESTIMATE_TTL_S = 30.0
"""How long an estimate stands: a dashboard's overview, timeseries and pages share one (each was
6-13 ms more on a small chDB, measured), and the decision moves with the traffic, slowly."""
_MAX_ESTIMATES = 4096


class Estimates:
    """Recent estimates of one warehouse by (site, range)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._found: dict[tuple[str, datetime, datetime], tuple[float, int]] = {}

    def get(self, query: StatsQuery) -> int | None:
        found = self._found.get((query.site_id, query.start, query.end))
        if found is None or self._clock() - found[0] > ESTIMATE_TTL_S:
            return None
        return found[1]

    def put(self, query: StatsQuery, events: int) -> None:
        if len(self._found) >= _MAX_ESTIMATES:
            self._found.clear()
        self._found[(query.site_id, query.start, query.end)] = (self._clock(), events)


_ESTIMATES: weakref.WeakKeyDictionary[Warehouse, Estimates] = weakref.WeakKeyDictionary()


def estimates_of(warehouse: Warehouse) -> Estimates:
    """The estimates of `warehouse`, shared by every `Stats` made on it (one per request)."""
    found = _ESTIMATES.get(warehouse)
    if found is None:
        found = _ESTIMATES[warehouse] = Estimates()
    return found
