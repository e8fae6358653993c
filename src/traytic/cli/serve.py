"""Each service alone, as the distributed mode runs it (one process per container)."""

from __future__ import annotations

from granian import Granian
from granian.constants import Interfaces

from traytic.consumer.settings import ConsumerSettings
from traytic.core.bus import BusSettings
from traytic.core.settings import describe, load_settings
from traytic.db.settings import DbSettings
from traytic.gateway.settings import GatewaySettings, load_gateway_settings
from traytic.warehouse import WarehouseSettings


def serve_gateway() -> int:
    settings, _ = load_gateway_settings()
    Granian(
        "traytic.gateway.app:create_asgi",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
        backlog=2048,
    ).serve()
    return 0


def serve_query() -> int:
    from traytic.query.settings import QuerySettings

    settings = load_settings(QuerySettings)
    Granian(
        "traytic.query.app:create_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
    ).serve()
    return 0


def serve_billing() -> int:
    from traytic.billing.settings import BillingSettings

    settings = load_settings(BillingSettings)
    Granian(
        "traytic.billing.app:create_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
    ).serve()
    return 0


def run_consumer() -> int:
    from traytic.consumer.main import run_consumer as run

    return run()


async def run_migrate() -> int:
    from traytic.consumer.main import migrate
    from traytic.db.migrate import head_revision
    from traytic.db.migrate import migrate as migrate_database
    from traytic.db.settings import load_db_settings

    for name in await migrate():
        print(f"warehouse: {name}")
    await migrate_database(load_db_settings())
    print(f"database: at {head_revision()}")
    return 0


def print_settings() -> int:
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
    ):
        print(f"# {cls.__name__}")
        for name, default in describe(cls):
            print(f"{name}={default}")
    return 0
