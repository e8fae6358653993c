"""What a stats request asks for: the site, the time range (UTC instants computed in the site's
time zone), the bucket interval, the filters and the page of a list. Validated here, once, so
every bad value is an `InvalidInput` that names its parameter before any SQL is built.

Periods: `24h` is the last 24 whole local hours up to the end of the current hour; `7d`, `30d`
and `90d` are that many local calendar days ending with today. `from`/`to` are local dates, both
included. The previous period is the range of the same length just before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from traytic.core.errors import InvalidInput
from traytic.warehouse.stats.matching import Goal

Period = Literal["24h", "7d", "30d", "90d"]
Interval = Literal["hour", "day"]
PERIODS: tuple[str, ...] = get_args(Period)
INTERVALS: tuple[str, ...] = get_args(Interval)
PERIOD_DAYS = {"7d": 7, "30d": 30, "90d": 90}
MAX_RANGE_DAYS = 732
"""Longest `from`/`to` range: two years of days."""
MAX_HOUR_BUCKETS = 24 * 31
"""Hourly timeseries cover at most a month (744 buckets)."""
MAX_LIMIT = 1000
MAX_FILTER_LENGTH = 2048

FILTER_COLUMNS: dict[str, str] = {
    "path": "pathname",
    "hostname": "hostname",
    "source": "referrer_source",
    "referrer": "referrer",
    "channel": "channel",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_term": "utm_term",
    "utm_content": "utm_content",
    "country": "country",
    "region": "region",
    "city": "city",
    "device": "device",
    "browser": "browser",
    "os": "os",
    "screen": "screen",
}
"""Equality filters: parameter name → events column (a fixed whitelist: no name reaches SQL)."""


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(tz: str, field_name: str = "tz") -> ZoneInfo:
    if tz != "UTC" and tz not in _zone_names():
        raise InvalidInput(f"unknown time zone {tz[:64]!r}", field=field_name)
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {tz[:64]!r}", field=field_name) from exc


def _check_text(name: str, value: str) -> str:
    if len(value) > MAX_FILTER_LENGTH:
        raise InvalidInput(f"{name} is longer than {MAX_FILTER_LENGTH} characters", field=name)
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character", field=name)
    return value


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition over `events` rows compiled elsewhere (a saved segment, `stats.v2`), with
    its bound values; it may use the statement's `site_id`, `start` and `end`."""

    sql: str
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Filters:
    """Combinable filters (AND): column equalities, a custom event name, a prop key=value, a
    goal (the visits that converted it) and an error message (the visits that met it)."""

    columns: tuple[tuple[str, str], ...] = ()
    """(filter name, value) pairs, names from `FILTER_COLUMNS`, sorted by name."""
    event: str | None = None
    prop: tuple[str, str] | None = None
    goal: Goal | None = None
    segment: Condition | None = None
    error: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.columns) or any(
            item is not None
            for item in (self.event, self.prop, self.goal, self.segment, self.error)
        )

    @classmethod
    def of(
        cls,
        *,
        event: str | None = None,
        prop: str | tuple[str, str] | None = None,
        goal: Goal | None = None,
        error: str | None = None,
        **columns: str | None,
    ) -> Filters:
        """Filters from keyword values (None: not filtered); `prop` is `key:value` or a pair."""
        pairs = []
        for name, value in sorted(columns.items()):
            if name not in FILTER_COLUMNS:
                raise InvalidInput(f"unknown filter {name!r}", field=name)
            if value is not None:
                pairs.append((name, _check_text(name, value)))
        prop_pair: tuple[str, str] | None = None
        if isinstance(prop, str):
            key, sep, value = prop.partition(":")
            if not sep or not key:
                raise InvalidInput("prop must be `key:value`", field="prop")
            prop_pair = (_check_text("prop", key), _check_text("prop", value))
        elif prop is not None:
            prop_pair = (_check_text("prop", prop[0]), _check_text("prop", prop[1]))
        return cls(
            columns=tuple(pairs),
            event=_check_text("event", event) if event is not None else None,
            prop=prop_pair,
            goal=goal,
            error=_check_text("error", error) if error is not None else None,
        )


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """One stats request: `start <= ts < end` (aware UTC), bucketed and shown in `tz`."""

    site_id: str
    start: datetime
    end: datetime
    tz: str = "UTC"
    interval: Interval = "day"
    filters: Filters = field(default_factory=Filters)
    limit: int = 10
    page: int = 1
    sample_above: int | None = None
    """Raw reads of more events than this read a sample of the visitors and scale their counts
    (`traytic.warehouse.stats.sampling`); None: always exact."""
    sample: float | None = None
    """The share of visitors the raw statements read (`SAMPLE`), set by the service."""
    imported: bool = False
    """Add imported figures (`traytic.warehouse.stats.imported`) where they apply."""

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def previous(self) -> StatsQuery:
        """The range of the same length just before this one."""
        span = self.end - self.start
        return replace(self, start=self.start - span, end=self.start)

    @classmethod
    def build(
        cls,
        site_id: str,
        *,
        period: str | None = None,
        date_from: date | str | None = None,
        date_to: date | str | None = None,
        tz: str = "UTC",
        interval: str | None = None,
        filters: Filters | None = None,
        limit: int = 10,
        page: int = 1,
        now: datetime | None = None,
        sample_above: int | None = None,
        imported: bool = False,
    ) -> StatsQuery:
        """Validate the parameters and turn the period (or dates) into a UTC range."""
        zone = check_time_zone(tz)
        now = (now or datetime.now(UTC)).astimezone(UTC)
        if date_from is not None or date_to is not None:
            if period is not None:
                raise InvalidInput("give either period or from/to, not both", field="period")
            start, end = _date_range(date_from, date_to, zone)
            default_interval: Interval = "day"
        else:
            period = period or "30d"
            if period not in PERIODS:
                raise InvalidInput(f"period must be one of {', '.join(PERIODS)}", field="period")
            start, end = _period_range(period, now, zone)
            default_interval = "hour" if period == "24h" else "day"
        if interval is None:
            chosen = default_interval
        elif interval in INTERVALS:
            chosen = "hour" if interval == "hour" else "day"
        else:
            raise InvalidInput(f"interval must be one of {', '.join(INTERVALS)}", field="interval")
        if chosen == "hour" and end - start > timedelta(hours=MAX_HOUR_BUCKETS):
            raise InvalidInput("hourly buckets need a range of at most 31 days", field="interval")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        if not 1 <= page <= 10_000:
            raise InvalidInput("page must be between 1 and 10000", field="page")
        return cls(
            site_id=site_id,
            start=start,
            end=end,
            tz=tz,
            interval=chosen,
            filters=filters or Filters(),
            limit=limit,
            page=page,
            sample_above=sample_above,
            imported=imported,
        )


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`, as aware UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _period_range(period: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if period == "24h":
        # The end of the current local hour (zones offset by half an hour have their own).
        hour = now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        end = hour.astimezone(UTC) + timedelta(hours=1)
        return end - timedelta(hours=24), end
    today = now.astimezone(zone).date()
    first = today - timedelta(days=PERIOD_DAYS[period] - 1)
    return local_midnight(first, zone), local_midnight(today + timedelta(days=1), zone)


def _parse_date(value: date | str, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a date like 2025-01-31", field=name) from exc


def _date_range(
    date_from: date | str | None, date_to: date | str | None, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    if date_from is None:
        raise InvalidInput("from is needed with to", field="from")
    if date_to is None:
        raise InvalidInput("to is needed with from", field="to")
    first, last = _parse_date(date_from, "from"), _parse_date(date_to, "to")
    if last < first:
        raise InvalidInput("to must not be before from", field="to")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"a range covers at most {MAX_RANGE_DAYS} days", field="to")
    return local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
