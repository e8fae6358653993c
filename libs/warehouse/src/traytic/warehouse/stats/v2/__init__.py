"""Plausible's Stats API v2 over our events: `parse_query` validates a request body into a
`V2Query` (query.py, with its filter tree in tree.py and date ranges in ranges.py), and
`V2Stats.run` answers it (statements.py builds the SQL, conditions.py the filters)."""

from traytic.warehouse.stats.v2.conditions import segment_condition
from traytic.warehouse.stats.v2.query import V2Query, parse_query
from traytic.warehouse.stats.v2.service import V2Stats, first_day
from traytic.warehouse.stats.v2.tree import parse_filters, segment_ids

__all__ = [
    "V2Query",
    "V2Stats",
    "first_day",
    "parse_filters",
    "parse_query",
    "segment_condition",
    "segment_ids",
]
