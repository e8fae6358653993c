"""When reports are due and what they cover, in the recipient's time zone (pure functions).

A weekly report is sent on Monday at the report's hour and covers the week before (Monday to
Sunday); a monthly one on the 1st and covers the month before. After downtime only the latest
missed report is sent (late, and saying so): older ones would only flood the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from traytic.db.models import ReportFrequency


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)


def _month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _anchor(frequency: str, day: date, months: int = 0) -> date:
    """The send day of the week or month holding `day` (moved by `months` for monthly)."""
    if frequency == ReportFrequency.WEEKLY.value:
        return day - timedelta(days=day.weekday()) + timedelta(weeks=months)
    return _month_start(day, months)


def latest_run(frequency: str, hour: int, zone: ZoneInfo, instant: datetime) -> datetime:
    """The latest scheduled send at or before `instant` (aware UTC)."""
    local_day = instant.astimezone(zone).date()
    run = _at(_anchor(frequency, local_day), hour, zone)
    if run > instant:
        run = _at(_anchor(frequency, local_day, -1), hour, zone)
    return run


def next_run(frequency: str, hour: int, zone: ZoneInfo, instant: datetime) -> datetime:
    """The first scheduled send strictly after `instant`."""
    local_day = latest_run(frequency, hour, zone, instant).astimezone(zone).date()
    return _at(_anchor(frequency, local_day, 1), hour, zone)


@dataclass(frozen=True, slots=True)
class Period:
    """The local days a report covers, both included (as the stats API's `from` and `to`)."""

    first: date
    last: date


def period_before(frequency: str, run: datetime, zone: ZoneInfo) -> Period:
    """The week or month that ended when the report due at `run` was due."""
    send_day = run.astimezone(zone).date()
    last = send_day - timedelta(days=1)
    if frequency == ReportFrequency.WEEKLY.value:
        return Period(send_day - timedelta(days=7), last)
    return Period(last.replace(day=1), last)


@dataclass(frozen=True, slots=True)
class DueReport:
    run: datetime
    """The scheduled send this report is for (the latest one at or before now)."""
    period: Period
    late: bool
    skipped: int
    """Earlier scheduled sends missed during downtime and not sent at all."""
    next_run: datetime


def due_report(
    frequency: str,
    hour: int,
    zone: ZoneInfo,
    *,
    scheduled: datetime,
    now: datetime,
    late_after: timedelta,
) -> DueReport:
    """What to send for a recipient whose report was scheduled at `scheduled` (<= now)."""
    run = latest_run(frequency, hour, zone, now)
    skipped = 0
    cursor = scheduled
    while cursor < run:
        skipped += 1
        cursor = next_run(frequency, hour, zone, cursor)
    return DueReport(
        run=run,
        period=period_before(frequency, run, zone),
        late=now - run > late_after,
        skipped=skipped,
        next_run=next_run(frequency, hour, zone, now),
    )
