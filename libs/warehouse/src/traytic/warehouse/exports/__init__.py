"""Data out: every report of a period as CSV files in a ZIP (`reports.py`), and the raw events
as CSV or Parquet (`events.py`), each produced piece by piece so memory stays bounded."""

from traytic.warehouse.exports.events import (
    EXPORT_COLUMNS,
    event_batches,
    events_csv,
    events_parquet,
)
from traytic.warehouse.exports.reports import REPORT_FILES, reports_zip

__all__ = [
    "EXPORT_COLUMNS",
    "REPORT_FILES",
    "event_batches",
    "events_csv",
    "events_parquet",
    "reports_zip",
]
