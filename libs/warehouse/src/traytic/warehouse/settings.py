"""Warehouse settings: which ClickHouse engine to use and how to reach it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from traytic.core.settings import load_settings


class WarehouseSettings(msgspec.Struct, frozen=True, kw_only=True):
    """`TRAYTIC_CLICKHOUSE_URL` set selects the server backend; unset, chDB embedded."""

    clickhouse_url: str | None = None
    clickhouse_user: str = "default"
    clickhouse_password: str = ""
    clickhouse_database: str = "traytic"
    chdb_path: str = ".traytic/chdb"
    clickhouse_connect_timeout: float = 5.0
    """Seconds to open a connection to the server before it counts as unavailable."""
    clickhouse_timeout: float = 60.0
    """Seconds a whole request (insert or query) may take."""
    clickhouse_cluster: str = ""
    """A cluster of the servers' `remote_servers`: migrations create replicated tables and
    `Distributed` tables `ON CLUSTER` it. Empty: one server (or chDB)."""


def load_warehouse_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> WarehouseSettings:
    return load_settings(WarehouseSettings, environ=environ, **overrides)
