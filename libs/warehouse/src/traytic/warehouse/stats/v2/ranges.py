"""`date_range` of a v2 query: Plausible's named ranges, a pair of dates or a pair of datetimes
with offsets, turned into `[start, end)` in UTC, computed in the site's time zone.

As in Plausible, `7d`, `28d`, `30d` and `91d` are the days before today (today not included),
`day` is today, `month` and `year` run from their first day to today, `6mo` and `12mo` are that
many calendar months ending with this one, and `all` starts on the site's first day of data. A
datetime pair includes the second it ends on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from traytic.core.errors import InvalidInput
from traytic.warehouse.stats.params import local_midnight

NAMED = ("day", "24h", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all")
DAYS_BEFORE_TODAY = {"7d": 7, "28d": 28, "30d": 30, "91d": 91}
MONTHS = {"6mo": 6, "12mo": 12}
MAX_DAYS = 3660
"""Longest range: ten years of days (imports can reach far back)."""


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, field="date_range")


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _days(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if last < first:
        raise _invalid("the date range ends before it starts")
    if (last - first).days >= MAX_DAYS:
        raise _invalid(f"a date range covers at most {MAX_DAYS} days")
    return local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)


def _named(
    name: str, zone: ZoneInfo, now: datetime, first_day: date | None
) -> tuple[datetime, datetime]:
    today = now.astimezone(zone).date()
    if name == "24h":
        hour = now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        end = hour.astimezone(UTC) + timedelta(hours=1)
        return end - timedelta(hours=24), end
    if name == "day":
        return _days(today, today, zone)
    if name in DAYS_BEFORE_TODAY:
        return _days(
            today - timedelta(days=DAYS_BEFORE_TODAY[name]), today - timedelta(days=1), zone
        )
    if name == "month":
        return _days(today.replace(day=1), today, zone)
    if name in MONTHS:
        return _days(_months_back(today, MONTHS[name] - 1), today, zone)
    if name == "year":
        return _days(today.replace(month=1, day=1), today, zone)
    first = min(first_day or today, today)  # "all"
    return _days(max(first, today - timedelta(days=MAX_DAYS - 1)), today, zone)


def _instant(value: str, zone: ZoneInfo) -> datetime | date:
    try:
        if "T" in value or " " in value:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=zone)
            return parsed.astimezone(UTC)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _invalid(f"{value[:40]!r} is not an ISO 8601 date or datetime") from exc


def resolve(
    value: object, zone: ZoneInfo, now: datetime, first_day: date | None = None
) -> tuple[datetime, datetime]:
    """`[start, end)` (aware UTC) of a `date_range` value; 400 naming it when invalid."""
    if isinstance(value, str):
        if value not in NAMED:
            raise _invalid(f"date_range must be one of {', '.join(NAMED)} or a pair of dates")
        return _named(value, zone, now, first_day)
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise _invalid("date_range must be a name or a pair of ISO 8601 dates or datetimes")
    first, last = (_instant(v, zone) for v in value)
    if isinstance(first, datetime) != isinstance(last, datetime):
        raise _invalid("give two dates or two datetimes, not one of each")
    if isinstance(first, datetime) and isinstance(last, datetime):
        end = last + timedelta(seconds=1)
        if end <= first:
            raise _invalid("the date range ends before it starts")
        if end - first > timedelta(days=MAX_DAYS):
            raise _invalid(f"a date range covers at most {MAX_DAYS} days")
        return first, end
    assert isinstance(first, date)
    assert isinstance(last, date)
    return _days(first, last, zone)


def normalised(start: datetime, end: datetime, zone: ZoneInfo) -> list[str]:
    """The range as the answer's `query.date_range` shows it: local datetimes, both included."""
    return [
        start.astimezone(zone).isoformat(),
        (end - timedelta(seconds=1)).astimezone(zone).isoformat(),
    ]
