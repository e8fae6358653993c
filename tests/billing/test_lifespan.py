"""A start-up step that fails closes what the steps before it opened: here the warehouse is
misconfigured (a cluster without a server), found after the database and both providers'
HTTP clients are open."""

from __future__ import annotations

from litestar import Litestar

from tests.billing.conftest import settings_for
from tests.billing.providers import PaystackStub, PolarStub
from tests.fixtures.leaks import failed_start
from traytic.billing.app import Billing
from traytic.core.errors import ConfigurationError
from traytic.db import Database, DbSettings
from traytic.warehouse import WarehouseSettings


async def test_a_failed_start_leaves_nothing_open(
    db: Database, database_url: str, paystack: PaystackStub, polar: PolarStub
) -> None:
    billing = Billing(
        settings_for(paystack, polar, run_worker=True),
        DbSettings(database_url=database_url),
        warehouse_settings=WarehouseSettings(clickhouse_cluster="main"),
    )
    app = Litestar(route_handlers=billing.route_handlers, lifespan=[billing.lifespan])
    failed, left_open = await failed_start(app)
    assert failed.group_contains(ConfigurationError, match="CLICKHOUSE_CLUSTER")
    assert left_open == []
    assert billing.context is None
