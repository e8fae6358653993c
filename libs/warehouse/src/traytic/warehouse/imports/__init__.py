"""Imports from the tools people leave (issue 19): readers of Plausible's, Umami's and Google
Analytics 4's exports (`plausible`, `umami`, `ga4`), each giving `DailyFigures`, and the
`ImportStore` that keeps them apart from native events (migration 0020). `run_import` is the
one path both the CLI and the query service take."""

from traytic.warehouse.imports.figures import DailyFigures, ImportFormatError, Sums
from traytic.warehouse.imports.reading import Progress
from traytic.warehouse.imports.running import read_file, run_import
from traytic.warehouse.imports.store import SOURCES, ImportJob, ImportStore, check_source

__all__ = [
    "SOURCES",
    "DailyFigures",
    "ImportFormatError",
    "ImportJob",
    "ImportStore",
    "Progress",
    "Sums",
    "check_source",
    "read_file",
    "run_import",
]
