"""The fixture exports (written to each tool's documented format, see the readers' docstrings)
packed as the tools hand them over, and their figures read back with plain `csv`, independently
of the readers under test."""

from __future__ import annotations

import csv
import zipfile
from collections import defaultdict
from datetime import date
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
PLAUSIBLE = FIXTURES / "plausible"
UMAMI = FIXTURES / "umami"
GA4 = FIXTURES / "ga4"


def zip_folder(folder: Path, target: Path, names: list[str] | None = None) -> Path:
    """The folder's CSV files in a ZIP, as an export download is."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.csv")):
            if names is None or path.name in names:
                archive.write(path, path.name)
    return target


def plausible_zip(tmp: Path) -> Path:
    return zip_folder(PLAUSIBLE, tmp / "plausible-export.zip")


def plausible_table(table: str) -> list[dict[str, str]]:
    [path] = PLAUSIBLE.glob(f"imported_{table}_*.csv")
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def plausible_totals(first: date, last: date) -> dict[str, int]:
    """Sums of imported_visitors over the days from `first` to `last`."""
    found: dict[str, int] = defaultdict(int)
    for row in plausible_table("visitors"):
        if first <= date.fromisoformat(row["date"]) <= last:
            for name in ("visitors", "pageviews", "bounces", "visits", "visit_duration"):
                found[name] += int(row[name])
    return dict(found)


def plausible_by(table: str, column: str, first: date, last: date) -> dict[str, dict[str, int]]:
    """A table's visitors, visits and pageviews per value of `column` over the days."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in plausible_table(table):
        if first <= date.fromisoformat(row["date"]) <= last:
            for name in ("visitors", "visits", "pageviews"):
                found[row[column]][name] += int(row.get(name) or 0)
    return {value: dict(sums) for value, sums in found.items()}


def ga4_rows(name: str) -> list[dict[str, str]]:
    with (GA4 / name).open(newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines))
