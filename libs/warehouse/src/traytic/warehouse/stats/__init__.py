"""Stats over the events table: validated requests (`StatsQuery`), pure SQL builders
(`statements`) and `Stats`, which runs them on a `Warehouse` and shapes the answers."""

from traytic.warehouse.stats.params import (
    FILTER_COLUMNS,
    INTERVALS,
    PERIODS,
    Filters,
    StatsQuery,
)
from traytic.warehouse.stats.service import VITAL_THRESHOLDS, Stats

__all__ = [
    "FILTER_COLUMNS",
    "INTERVALS",
    "PERIODS",
    "VITAL_THRESHOLDS",
    "Filters",
    "Stats",
    "StatsQuery",
]
