"""When reports are due and which days they cover, in recipients' own zones (pure), and the
webhook signature a receiver checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traytic.alerts.formats import change, duration, period_label
from traytic.alerts.schedule import Period, due_report, latest_run, next_run, period_before
from traytic.alerts.signing import signature, verify

TOKYO, NEW_YORK, BERLIN = (
    ZoneInfo("Asia/Tokyo"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Europe/Berlin"),
)


def test_weekly_reports_go_out_monday_morning_in_each_zone() -> None:
    instant = datetime(2025, 3, 23, 23, 30, tzinfo=UTC)  # Monday 08:30 in Tokyo, Sunday in NY
    assert next_run("weekly", 8, TOKYO, instant) == datetime(2025, 3, 30, 23, 0, tzinfo=UTC)
    assert latest_run("weekly", 8, TOKYO, instant) == datetime(2025, 3, 23, 23, 0, tzinfo=UTC)
    assert next_run("weekly", 8, NEW_YORK, instant) == datetime(2025, 3, 24, 12, 0, tzinfo=UTC)
    run = latest_run("weekly", 8, TOKYO, instant)
    assert period_before("weekly", run, TOKYO) == Period(date(2025, 3, 17), date(2025, 3, 23))


def test_monthly_reports_cover_the_month_before_across_a_year_and_dst() -> None:
    instant = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    run = latest_run("monthly", 8, BERLIN, instant)
    assert run == datetime(2025, 1, 1, 7, 0, tzinfo=UTC)
    assert period_before("monthly", run, BERLIN) == Period(date(2024, 12, 1), date(2024, 12, 31))
    assert next_run("monthly", 8, BERLIN, instant) == datetime(2025, 2, 1, 7, 0, tzinfo=UTC)
    # 1 April is in summer time: 08:00 is 06:00 UTC
    assert next_run("monthly", 8, BERLIN, datetime(2025, 3, 15, tzinfo=UTC)) == datetime(
        2025, 4, 1, 6, 0, tzinfo=UTC
    )


def test_downtime_sends_the_latest_missed_report_once_and_counts_the_rest() -> None:
    scheduled = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
    now = datetime(2025, 3, 26, 10, 0, tzinfo=UTC)
    due = due_report(
        "weekly", 8, BERLIN, scheduled=scheduled, now=now, late_after=timedelta(hours=1)
    )
    assert due.run == datetime(2025, 3, 24, 7, 0, tzinfo=UTC)
    assert (due.skipped, due.late) == (3, True)
    assert due.period == Period(date(2025, 3, 17), date(2025, 3, 23))
    on_time = due_report(
        "weekly", 8, BERLIN, scheduled=due.run, now=due.run + timedelta(seconds=5),
        late_after=timedelta(hours=1),
    )  # fmt: skip
    assert (on_time.skipped, on_time.late) == (0, False)
    assert on_time.next_run == datetime(2025, 3, 31, 6, 0, tzinfo=UTC)


@given(
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    hour=st.integers(0, 23),
    frequency=st.sampled_from(["weekly", "monthly"]),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"]),
)
def test_runs_bracket_every_instant(
    instant: datetime, hour: int, frequency: str, zone: str
) -> None:
    moment = instant.replace(tzinfo=UTC)
    tz = ZoneInfo(zone)
    before, after = latest_run(frequency, hour, tz, moment), next_run(frequency, hour, tz, moment)
    assert before <= moment < after
    assert next_run(frequency, hour, tz, before) == after
    covered = period_before(frequency, before, tz)
    assert covered.last == before.astimezone(tz).date() - timedelta(days=1)
    assert covered.first <= covered.last


def test_a_signature_verifies_only_for_its_body_secret_and_time() -> None:
    body = b'{"type":"report"}'
    header = signature("s3cret", 1_700_000_000, body)
    assert verify("s3cret", header, body, now=1_700_000_100)
    assert not verify("s3cret", header, body + b" ", now=1_700_000_100)
    assert not verify("other", header, body, now=1_700_000_100)
    assert not verify("s3cret", header, body, now=1_700_000_000 + 301)
    assert not verify("s3cret", "garbage", body, now=1_700_000_000)


@pytest.mark.parametrize(
    ("value", "previous", "shown"),
    [
        (112, 100, "+12%"),
        (95, 100, "-5%"),
        (3, 0, "new"),
        (0, 0, "no change"),
        (100.2, 100, "no change"),
    ],
)
def test_changes_read_as_people_expect(value: float, previous: float, shown: str) -> None:
    assert change(value, previous) == shown


def test_durations_and_periods_read_well() -> None:
    assert (duration(83), duration(7)) == ("1m 23s", "7s")
    assert period_label(date(2025, 2, 24), date(2025, 3, 2)) == "24 February to 2 March 2025"
    assert (
        period_label(date(2024, 12, 30), date(2025, 1, 5)) == "30 December 2024 to 5 January 2025"
    )
