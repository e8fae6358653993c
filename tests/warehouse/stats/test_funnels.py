"""Funnels on both engines against the steps computed in Python from the rows sent: within one
visit and within windows, broken down, against the previous period, in Asia/Kathmandu."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

import pytest

from tests.warehouse.stats.dataset import NOW, SITE, event, select, store
from tests.warehouse.stats.goal_dataset import GOALS, make_visits, matches, q, visit_attributes
from traytic.warehouse import EventRow, Warehouse
from traytic.warehouse.stats import Filters, Stats, StatsQuery
from traytic.warehouse.stats.conversions import FunnelStats
from traytic.warehouse.stats.matching import Goal

ROWS = make_visits(seed=23, visits=220)
PRICING, BLOG, SIGNUP, PRO, PURCHASE = GOALS
NEVER = float("inf")


@pytest.fixture
async def funnels(warehouse: Warehouse) -> FunnelStats:
    await store(warehouse, ROWS)
    return FunnelStats(Stats(warehouse))


def level(times: Sequence[list[int]], window_s: int | None) -> int:
    """Steps reached from sorted step times: greedy earliest chains from each start."""
    best = 0
    starts = times[0][:1] if window_s is None else times[0]
    for start in starts:
        reached, at = 1, start
        for later in times[1:]:
            at = next((t for t in later if t >= at), NEVER)
            if at == NEVER or (window_s is not None and at > start + window_s):
                break
            reached += 1
        best = max(best, reached)
    return best


def expected_steps(
    rows: list[EventRow], query: StatsQuery, steps: Sequence[Goal], window_s: int | None
) -> tuple[list[int], dict[int, int]]:
    """Visitors per step, and each group's level keyed by its entry visit."""
    in_range = select(rows, query)
    if query.filters.any:
        kept = {r.session_id for r in in_range}
        in_range = [
            r
            for r in select(rows, StatsQuery(site_id=SITE, start=query.start, end=query.end))
            if r.session_id in kept
        ]
    groups: dict[int, list[EventRow]] = defaultdict(list)
    for row in in_range:
        groups[row.session_id if window_s is None else row.visitor_id].append(row)
    reached: dict[int, set[int]] = defaultdict(set)
    entries: dict[int, int] = {}
    for group_rows in groups.values():
        times = [sorted(r.ts for r in group_rows if matches(goal, r)) for goal in steps]
        if not times[0]:
            continue
        found = level(times, window_s)
        first = min((r for r in group_rows if matches(steps[0], r)), key=lambda r: r.ts)
        entries[first.session_id] = max(entries.get(first.session_id, 0), found)
        for k in range(found):
            reached[k].add(group_rows[0].visitor_id)
    return [len(reached[k]) for k in range(len(steps))], entries


CASES = {
    "visit": ([PRICING, SIGNUP, PURCHASE], None),
    "30 minutes": ([PRICING, SIGNUP, PURCHASE], 30),
    "1 minute": ([BLOG, PURCHASE], 1),
    "four steps": ([BLOG, PRICING, SIGNUP, PURCHASE], 60),
    "back again": ([PRICING, BLOG, PRICING], None),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_steps_against_python(funnels: FunnelStats, case: str) -> None:
    steps, window = CASES[case]
    query = q(period="30d")
    answer = await funnels.funnel(query, steps, window)
    window_s = None if window is None else window * 60
    now, _ = expected_steps(ROWS, query, steps, window_s)
    before, _ = expected_steps(ROWS, query.previous(), steps, window_s)
    assert now[0] > 0 and now[-1] > 0, "the dataset should reach the last step"
    assert [s.visitors for s in answer.steps] == now
    assert [s.previous for s in answer.steps] == before
    assert [s.dropoff for s in answer.steps] == [0] + [a - b for a, b in itertools.pairwise(now)]
    for k, step in enumerate(answer.steps):
        assert step.conversion_rate == pytest.approx(now[k] / now[0])
        assert step.step_rate == pytest.approx(now[k] / now[k - 1] if k else 1.0)
        assert step.name == steps[k].name
    assert answer.conversion_rate.value == pytest.approx(now[-1] / now[0])
    assert answer.window_minutes == window


async def test_a_filter_narrows_the_visits(funnels: FunnelStats) -> None:
    steps = [PRICING, SIGNUP]
    query = q(period="30d", filters=Filters.of(country="DE"))
    answer = await funnels.funnel(query, steps, None)
    assert [s.visitors for s in answer.steps] == expected_steps(ROWS, query, steps, None)[0]


@pytest.mark.parametrize("breakdown", ["source", "channel", "country", "device"])
async def test_breakdown_by_the_entry_visit(funnels: FunnelStats, breakdown: str) -> None:
    steps = [PRICING, SIGNUP]
    query = q(period="30d", limit=50)
    answer = await funnels.funnel(query, steps, None, breakdown=breakdown)
    _, entries = expected_steps(ROWS, query, steps, None)
    first = visit_attributes(ROWS)
    column = {"source": "referrer_source"}.get(breakdown, breakdown)
    per_value: dict[str, list[set[int]]] = defaultdict(lambda: [set(), set()])
    for visit, found in entries.items():
        owner = first[visit]
        for k in range(found):
            per_value[getattr(owner, column)][k].add(owner.visitor_id)
    expected = {value: [len(s) for s in sets] for value, sets in per_value.items()}
    assert {segment.value: segment.visitors for segment in answer.segments} == expected
    assert [s.value for s in answer.segments] == sorted(
        expected, key=lambda v: (-expected[v][0], v)
    )


async def test_ties_windows_and_order(warehouse: Warehouse) -> None:
    """Same-second steps count; the window is inclusive; steps out of order do not count."""
    t0 = int(NOW.timestamp()) - 7200
    goals = [
        Goal("a", "A", "pageview", "/a"),
        Goal("b", "B", "event", "b"),
        Goal("c", "C", "pageview", "/c"),
    ]
    rows = [
        # visitor 1: all three in one second, one visit
        event(visitor_id=1, session_id=1, ts=t0, pathname="/a"),
        event(visitor_id=1, session_id=1, ts=t0, type="event", name="b"),
        event(visitor_id=1, session_id=1, ts=t0, pathname="/c"),
        # visitor 2: /c before /a: only step 2 after step 1 counts
        event(visitor_id=2, session_id=2, ts=t0, pathname="/c"),
        event(visitor_id=2, session_id=2, ts=t0 + 5, pathname="/a"),
        event(visitor_id=2, session_id=2, ts=t0 + 9, type="event", name="b"),
        # visitor 3: across two visits, the last step exactly 10 minutes after the start
        event(visitor_id=3, session_id=3, ts=t0, pathname="/a"),
        event(visitor_id=3, session_id=4, ts=t0 + 300, type="event", name="b"),
        event(visitor_id=3, session_id=4, ts=t0 + 600, pathname="/c"),
        # visitor 4: a late restart makes the window: /a, (b too late), /a again, b, /c
        event(visitor_id=4, session_id=5, ts=t0, pathname="/a"),
        event(visitor_id=4, session_id=5, ts=t0 + 500, pathname="/a"),
        event(visitor_id=4, session_id=5, ts=t0 + 700, type="event", name="b"),
        event(visitor_id=4, session_id=5, ts=t0 + 1000, pathname="/c"),
    ]
    await store(warehouse, rows)
    funnels = FunnelStats(Stats(warehouse))
    query = q(period="7d")
    by_visit = await funnels.funnel(query, goals, None)
    assert [s.visitors for s in by_visit.steps] == [4, 3, 2]  # 1 whole, 2 to b, 4 whole; 3: a
    ten = await funnels.funnel(query, goals, 10)
    assert [s.visitors for s in ten.steps] == [4, 4, 3]  # 3 exactly at 600 s; 4 from its restart
    nine = await funnels.funnel(query, goals, 9)
    assert [s.visitors for s in nine.steps] == [4, 4, 2]
    for answer, window in ((by_visit, None), (ten, 600), (nine, 540)):
        assert [s.visitors for s in answer.steps] == expected_steps(rows, query, goals, window)[0]
