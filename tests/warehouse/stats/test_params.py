"""StatsQuery: periods and dates become UTC ranges in the site's time zone; bad values are
refused naming their parameter; filter values of any shape never break the SQL (both engines)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.warehouse.stats.dataset import NOW, SITE, event, store
from traytic.core.errors import InvalidInput
from traytic.warehouse import Warehouse
from traytic.warehouse.stats import FILTER_COLUMNS, Filters, Stats, StatsQuery


def test_24h_is_the_last_24_whole_hours() -> None:
    query = StatsQuery.build(SITE, period="24h", now=NOW)
    assert query.end == NOW.replace(minute=0, second=0) + timedelta(hours=1)
    assert query.end - query.start == timedelta(hours=24)
    assert query.interval == "hour"
    india = StatsQuery.build(SITE, period="24h", tz="Asia/Kolkata", now=NOW)
    assert india.end.astimezone(ZoneInfo("Asia/Kolkata")).minute == 0


def test_days_are_local_calendar_days_ending_today() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    query = StatsQuery.build(SITE, period="7d", tz="America/Los_Angeles", now=NOW)
    today = NOW.astimezone(zone).date()
    assert query.start.astimezone(zone) == datetime(
        today.year, today.month, today.day, tzinfo=zone
    ) - timedelta(days=6)
    assert query.end.astimezone(zone).date() == today + timedelta(days=1)
    assert query.interval == "day"


def test_from_to_dates_include_both_days_and_a_dst_change() -> None:
    query = StatsQuery.build(SITE, date_from="2025-03-30", date_to="2025-03-30", tz="Europe/Berlin")
    assert query.end - query.start == timedelta(hours=23)
    assert query.previous().end == query.start
    assert query.start == datetime(2025, 3, 29, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period": "1y"}, "period"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"interval": "minute"}, "interval"),
        ({"period": "90d", "interval": "hour"}, "interval"),
        ({"limit": 0}, "limit"),
        ({"limit": 100_000}, "limit"),
        ({"page": 0}, "page"),
        ({"date_from": "2025-01-02"}, "to"),
        ({"date_to": "2025-01-02"}, "from"),
        ({"date_from": "2025-01-02", "date_to": "2025-01-01"}, "to"),
        ({"date_from": "yesterday", "date_to": "2025-01-01"}, "from"),
        ({"date_from": date(2020, 1, 1), "date_to": date(2025, 1, 1)}, "to"),
        ({"period": "7d", "date_from": "2025-01-01", "date_to": "2025-01-02"}, "period"),
    ],
)
def test_bad_parameters_name_themselves(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        StatsQuery.build(SITE, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"nope": "x"}, "nope"),
        ({"prop": "nocolon"}, "prop"),
        ({"prop": ":v"}, "prop"),
        ({"country": "D\x00E"}, "country"),
        ({"event": "x" * 5000}, "event"),
    ],
)
def test_bad_filters_name_themselves(kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Filters.of(**kwargs)
    assert caught.value.field == field


def test_prop_value_may_hold_colons() -> None:
    assert Filters.of(prop="url:https://x.com/a").prop == ("url", "https://x.com/a")


NASTY = st.lists(
    st.one_of(
        st.sampled_from([*"'\"\\`\n\r\t{}();-#/*%:", "' OR 1=1 --", "{f0}", "{site_id}", "\\'"]),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=16,
).map("".join)


def _examples(count: int) -> list[dict[str, str]]:
    """Draw filter sets (hypothesis cannot drive an async test that uses the fixture)."""
    drawn: list[dict[str, str]] = []

    @settings(max_examples=count, database=None, deadline=None)
    @given(
        st.dictionaries(
            st.sampled_from([*sorted(FILTER_COLUMNS), "event", "prop"]), NASTY, max_size=4
        )
    )
    def collect(values: dict[str, str]) -> None:
        drawn.append(values)

    collect()
    return drawn


async def test_filter_values_never_break_the_sql(warehouse: Warehouse) -> None:
    # Rows whose values are themselves nasty: a filter matches them exactly, or nothing.
    values = _examples(60)
    rows = [
        event(
            ts=NOW - timedelta(minutes=5),
            session_id=n,
            visitor_id=n,
            **{
                column: value
                for name, value in filter_set.items()
                if name in FILTER_COLUMNS
                for column in [FILTER_COLUMNS[name]]
            },
        )
        for n, filter_set in enumerate(values, start=1)
    ]
    await store(warehouse, rows)
    stats = Stats(warehouse)
    for n, filter_set in enumerate(values, start=1):
        prop = filter_set.pop("prop", None)
        filters = Filters.of(prop=("k", prop) if prop is not None else None, **filter_set)
        query = StatsQuery.build(SITE, period="24h", now=NOW, filters=filters)
        overview = await stats.overview(query)
        expected = [
            row
            for row in rows
            if all(
                getattr(row, FILTER_COLUMNS[name]) == value
                for name, value in filter_set.items()
                if name in FILTER_COLUMNS
            )
        ]
        if "event" in filter_set or prop is not None:
            expected = []
        assert overview.pageviews.value == len(expected), (n, filter_set)
        await stats.pages(query)
        await stats.events(query)
