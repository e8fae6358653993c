"""Warehouse failures: unavailable (retry later) versus a query the engine rejected."""

from __future__ import annotations

from traytic.core.errors import ServiceUnavailable, TrayticError


class WarehouseUnavailable(ServiceUnavailable):
    """ClickHouse cannot be reached (connection refused, timeout, 5xx); back off and retry."""

    code = "warehouse_unavailable"


class WarehouseError(TrayticError):
    """The engine rejected a statement (bad SQL, unknown table): retrying will not help."""

    code = "warehouse_error"
