"""Traytic warehouse: the ClickHouse side (migrations, the `Warehouse` backends, SQL binding)."""

from traytic.warehouse.base import Warehouse, open_warehouse
from traytic.warehouse.errors import WarehouseError, WarehouseUnavailable
from traytic.warehouse.rows import COLUMNS, EVENT_TYPES, EventRow
from traytic.warehouse.settings import WarehouseSettings, load_warehouse_settings
from traytic.warehouse.sql import bind, quote_literal, quote_string

__all__ = [
    "COLUMNS",
    "EVENT_TYPES",
    "EventRow",
    "Warehouse",
    "WarehouseError",
    "WarehouseSettings",
    "WarehouseUnavailable",
    "bind",
    "load_warehouse_settings",
    "open_warehouse",
    "quote_literal",
    "quote_string",
]
