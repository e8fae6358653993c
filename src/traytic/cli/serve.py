"""Each service alone, as the distributed mode runs it (one process per container)."""

from __future__ import annotations

from traytic.consumer.settings import ConsumerSettings
from traytic.core.bus import BusSettings
from traytic.core.settings import describe
from traytic.db.settings import DbSettings
from traytic.gateway.settings import GatewaySettings
from traytic.warehouse import WarehouseSettings


def serve_gateway() -> int:
    from traytic.gateway.serve import main

    return main()


def serve_query() -> int:
    from traytic.query.serve import main

    return main()


def serve_billing() -> int:
    from traytic.billing.serve import main

    return main()


def run_consumer() -> int:
    from traytic.consumer.main import run_consumer as run

    return run()


async def run_migrate() -> int:
    from traytic.query.serve import migrate

    return await migrate()


def print_settings() -> int:
    from traytic.alerts.settings import AlertsSettings
    from traytic.billing.settings import BillingSettings
    from traytic.query.settings import QuerySettings

    for cls in (
        BusSettings,
        GatewaySettings,
        ConsumerSettings,
        WarehouseSettings,
        DbSettings,
        QuerySettings,
        BillingSettings,
        AlertsSettings,
    ):
        print(f"# {cls.__name__}")
        for name, default in describe(cls):
            print(f"{name}={default}")
    return 0
