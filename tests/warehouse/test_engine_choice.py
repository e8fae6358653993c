"""Which engine `open_warehouse` opens, and what it says when the embedded one is not installed
(the services' images leave the `chdb` extra out)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from traytic.core.errors import ConfigurationError
from traytic.warehouse import WarehouseSettings, open_warehouse
from traytic.warehouse.server import ServerWarehouse


def test_without_chdb_and_without_a_server_the_error_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "chdb", None)  # as in an image without the extra
    with pytest.raises(ConfigurationError) as refused:
        open_warehouse(WarehouseSettings(chdb_path=str(tmp_path / "chdb")))
    assert "TRAYTIC_CLICKHOUSE_URL" in refused.value.message
    assert "traytic-warehouse[chdb]" in refused.value.message
    assert not (tmp_path / "chdb").exists()


async def test_a_server_url_needs_no_chdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "chdb", None)
    warehouse = open_warehouse(WarehouseSettings(clickhouse_url="http://127.0.0.1:1"))
    try:
        assert isinstance(warehouse, ServerWarehouse)
    finally:
        await warehouse.close()
