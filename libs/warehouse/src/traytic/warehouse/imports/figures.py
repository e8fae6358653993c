"""What an importer produces: daily figures per dimension value, summed as rows are read.

Every importer turns its tool's files into `DailyFigures`: (dimension, day, value, parent) →
visitors, visits, pageviews, bounces, summed visit seconds and custom events, which is the
shape of the `imported_stats` table (migration 0020). Dimensions are those of the native
`daily_stats` rollup, so a report adds imported rows to native ones value by value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from traytic.core.errors import InvalidInput

TOTALS = "visitors"
"""The dimension of a site's daily totals (Plausible's imported_visitors)."""
ENTRY_PAGE = "entry_page"
EXIT_PAGE = "exit_page"
DIMENSIONS = frozenset(
    {
        TOTALS,
        "pathname",
        ENTRY_PAGE,
        EXIT_PAGE,
        "referrer_source",
        "referrer",
        "channel",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "country",
        "region",
        "city",
        "device",
        "browser",
        "browser_version",
        "os",
        "os_version",
        "screen",
    }
)
MAX_VALUE_LENGTH = 2048
"""A longer value (a page with a huge query string) is cut: reports show values, not blobs."""
FIELDS = ("visitors", "visits", "pageviews", "bounces", "visit_duration", "events")


class ImportFormatError(InvalidInput):
    """The file is not what the chosen tool exports: the message names the file and column."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(slots=True)
class Sums:
    visitors: int = 0
    visits: int = 0
    pageviews: int = 0
    bounces: int = 0
    visit_duration: int = 0
    events: int = 0

    def add(self, other: Sums) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


Key = tuple[str, date, str, str]
"""(dimension, day, value, parent)."""


@dataclass(slots=True)
class DailyFigures:
    """The figures of one import, summed by (dimension, day, value, parent)."""

    rows: dict[Key, Sums] = field(default_factory=dict)

    def add(self, dimension: str, day: date, value: str, sums: Sums, parent: str = "") -> None:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown import dimension {dimension!r}")
        key = (dimension, day, value[:MAX_VALUE_LENGTH], parent[:MAX_VALUE_LENGTH])
        found = self.rows.get(key)
        if found is None:
            self.rows[key] = found = Sums()
        found.add(sums)

    def days(self) -> list[date]:
        return sorted({key[1] for key in self.rows})

    def without_days(self, first: date, last: date) -> DailyFigures:
        """These figures less the days from `first` to `last` (both included)."""
        return DailyFigures({k: v for k, v in self.rows.items() if not first <= k[1] <= last})

    def items(self) -> Iterator[tuple[Key, Sums]]:
        return iter(sorted(self.rows.items(), key=lambda item: item[0]))

    def __len__(self) -> int:
        return len(self.rows)


def whole(text: str, name: str, where: str) -> int:
    """A count from a CSV cell: a whole number (`1234`, `1234.0`, empty as 0)."""
    text = text.strip()
    if not text:
        return 0
    try:
        number = float(text.replace(",", "")) if not text.isdigit() else int(text)
    except ValueError:
        raise ImportFormatError(f"{where}: {name} must be a number, not {text[:40]!r}") from None
    if not 0 <= number <= 2**62:  # NaN fails too
        raise ImportFormatError(f"{where}: {name} must be a number from 0, not {text[:40]!r}")
    return round(number)
