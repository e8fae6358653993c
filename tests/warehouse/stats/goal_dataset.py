"""Visits shaped as the consumer writes them (the source on the landing page view only, custom
events with props and revenue in several currencies) and, independently of the SQL, the
conversions, rates, revenue and funnel steps they imply."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tests.warehouse.stats.dataset import NOW, SITE, event, select
from traytic.core.goals import pattern_regex
from traytic.warehouse import EventRow
from traytic.warehouse.stats import StatsQuery
from traytic.warehouse.stats.goals import VISIT_COLUMNS, Target
from traytic.warehouse.stats.matching import Goal
from traytic.warehouse.stats.revenue import Conversion

PAGES = ["/", "/pricing", "/pricing/pro", "/blog/a", "/blog/a/comments", "/signup", "/docs/x"]
SOURCES = [("", "", ""), ("Google", "https://www.google.com/", "Organic Search"), ("GitHub", "https://github.com/", "Referral")]  # fmt: skip
PLACES = [("DE", "BE", "Berlin"), ("NP", "BA", "Kathmandu"), ("US", "CA", "San Francisco")]
DEVICES = [("desktop", "Firefox", "Linux"), ("mobile", "Safari", "iOS")]
CURRENCIES = ["EUR", "USD", "NGN", "JPY", "XOF"]
RATES = {"USD": 1.0, "EUR": 0.9, "NGN": 1500.0, "JPY": 150.0}
"""Per US dollar; XOF has no rate, so its revenue is counted 0 and named."""
CONVERSION = Conversion.of("EUR", RATES)

GOALS = [
    Goal("g-pricing", "Pricing", "pageview", "/pricing*"),
    Goal("g-blog", "Blog", "pageview", "/blog/**"),
    Goal("g-signup", "Signup", "event", "signup"),
    Goal("g-signup-pro", "Pro signup", "event", "signup", ("plan", "pro")),
    Goal("g-purchase", "Purchase", "revenue", "purchase"),
]


TZ = "Asia/Kathmandu"
"""UTC+05:45: its days start inside UTC days, and inside UTC hours."""


def q(**kwargs: object) -> StatsQuery:
    """A query of the main site at `NOW`, in `TZ` unless given."""
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("tz", TZ)
    return StatsQuery.build(SITE, **kwargs)  # type: ignore[arg-type]


def make_visits(seed: int = 17, visits: int = 140, days: int = 40) -> list[EventRow]:
    rng = random.Random(seed)
    rows: list[EventRow] = []
    end = int(NOW.timestamp())
    for n in range(visits):
        visitor = rng.randrange(1, visits // 2)
        session = 50_000 + n
        ts = end - rng.randrange(0, days * 86400)
        source, referrer, channel = rng.choice(SOURCES)
        country, region, city = rng.choice(PLACES)
        device, browser, os = rng.choice(DEVICES)
        same = {
            "visitor_id": visitor,
            "session_id": session,
            "country": country,
            "region": region,
            "city": city,
            "device": device,
            "browser": browser,
            "os": os,
        }
        landing = {"referrer_source": source, "referrer": referrer, "channel": channel}
        for step in range(rng.choice([1, 2, 3, 4, 6])):
            page = rng.choice(PAGES)
            rows.append(event(ts=ts, pathname=page, **same, **(landing if step == 0 else {})))
            roll = rng.random()
            if roll < 0.25:
                plan = rng.choice(["free", "pro"])
                rows.append(
                    event(
                        ts=ts + rng.randrange(0, 3),
                        type="event",
                        name="signup",
                        pathname=page,
                        props_key=["plan"],
                        props_value=[plan],
                        **same,
                    )
                )
            elif roll < 0.45:
                currency = rng.choice(CURRENCIES)
                rows.append(
                    event(
                        ts=ts + rng.randrange(0, 3),
                        type="event",
                        name="purchase",
                        pathname=page,
                        revenue_micros=rng.randrange(1, 500_000) * 10_000,
                        revenue_currency=currency,
                        **same,
                    )
                )
            ts += rng.randrange(20, 900)
    # A noise site converting the same goals never counts.
    rows.append(event(site_id="st_noise", type="event", name="purchase", ts=end - 60,
                      revenue_micros=10**9, revenue_currency="EUR"))  # fmt: skip
    return rows


def matches(goal: Goal, row: EventRow) -> bool:
    if goal.kind == "pageview":
        return (
            row.type == "pageview" and re.match(pattern_regex(goal.match), row.pathname) is not None
        )
    if row.type != "event" or row.name != goal.match:
        return False
    return goal.prop is None or goal.prop in zip(row.props_key, row.props_value, strict=True)


def revenue_of(row: EventRow) -> float:
    factor = CONVERSION.factors.get(row.revenue_currency, 0.0)
    return row.revenue_micros / 1e6 * factor


@dataclass
class Expected:
    unique: int
    total: int
    revenue: float
    revenue_events: int
    unconverted: set[str]


def conversion_rows(
    rows: Sequence[EventRow], query: StatsQuery, target: Target, *, start: int | None = None
) -> list[EventRow]:
    """The conversion events of the range: matching rows of visits the filters select."""
    lo = start if start is not None else int(query.start.timestamp())
    hi = int(query.end.timestamp())
    kept_visits = None
    if query.filters.any:
        wide = StatsQuery(
            site_id=query.site_id,
            start=query.start,
            end=query.end,
            tz=query.tz,
            filters=query.filters,
        )
        if start is not None:
            wide = StatsQuery(
                site_id=query.site_id,
                start=query.previous().start,
                end=query.end,
                tz=query.tz,
                filters=query.filters,
            )
        kept_visits = {row.session_id for row in select(rows, wide)}
    return [
        row
        for row in rows
        if row.site_id == query.site_id
        and lo <= row.ts < hi
        and row.type in ("pageview", "event")
        and any(matches(goal, row) for goal in target.goals)
        and (kept_visits is None or row.session_id in kept_visits)
    ]


def figures(converted: Sequence[EventRow], target: Target) -> Expected:
    earning = [g for g in target.goals if g.counts_revenue]
    paid = [r for r in converted if any(matches(g, r) for g in earning)]
    return Expected(
        unique=len({r.visitor_id for r in converted}),
        total=len(converted),
        revenue=sum(revenue_of(r) for r in paid),
        revenue_events=sum(r.revenue_currency != "" for r in paid),
        unconverted={
            r.revenue_currency
            for r in paid
            if r.revenue_currency and r.revenue_currency not in CONVERSION.factors
        },
    )


def visit_attributes(rows: Sequence[EventRow]) -> dict[int, EventRow]:
    """Each visit's first traffic event (what `sessions` holds its attributes from)."""
    first: dict[int, EventRow] = {}
    for row in rows:
        if row.site_id == SITE and row.type in ("pageview", "event"):
            known = first.get(row.session_id)
            if known is None or row.ts < known.ts:
                first[row.session_id] = row
    return first


def by_value(
    rows: Sequence[EventRow], converted: Sequence[EventRow], column: str, target: Target
) -> dict[str, Expected]:
    """Conversions per value of `column`, attributed as the module docstring of goals.py says."""
    first = visit_attributes(rows)
    groups: dict[str, list[EventRow]] = defaultdict(list)
    for row in converted:
        owner = first[row.session_id] if column in VISIT_COLUMNS else row
        groups[getattr(owner, column)].append(row)
    return {value: figures(group, target) for value, group in groups.items()}


def by_viewed_page(
    rows: Sequence[EventRow], converted: Sequence[EventRow], query: StatsQuery, target: Target
) -> dict[str, Expected]:
    per_visit: dict[int, list[EventRow]] = defaultdict(list)
    for row in converted:
        per_visit[row.session_id].append(row)
    viewed: dict[str, set[int]] = defaultdict(set)
    for row in select(rows, query, types=("pageview",)):
        if row.session_id in per_visit:
            viewed[row.pathname].add(row.session_id)
    return {
        page: figures([r for s in sessions for r in per_visit[s]], target)
        for page, sessions in viewed.items()
    }
