"""Stats over the events table: validated requests (`StatsQuery`, params.py), what each metric
means (measures.py), pure SQL builders over the raw events (raw.py) and over the rollups and
visits (rollups.py), the planner that picks between them (plan.py), and `Stats` (service.py),
which runs them on a `Warehouse` and shapes the answers."""

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
