#!/app/.venv/bin/python
"""`traytic` inside a per-service image, where only that service's packages are installed.

The real `traytic` command (`src/traytic/cli`) belongs to the root project, which depends on every
workspace member, so installing it would put all four services in every image. This stand-in runs
the same commands with the same settings, importing only what the chosen command needs:
`traytic gateway|query|billing` (Granian), `traytic consumer`, `traytic migrate` (needs the
warehouse and the database packages: the query image has both) and `traytic settings`.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Sequence

ASGI_APPS = {
    # command: (its settings class, its ASGI app factory), as `traytic.cli.serve` runs them
    "gateway": ("traytic.gateway.settings:GatewaySettings", "traytic.gateway.app:create_asgi"),
    "query": ("traytic.query.settings:QuerySettings", "traytic.query.app:create_app"),
    "billing": ("traytic.billing.settings:BillingSettings", "traytic.billing.app:create_app"),
}
SETTINGS_CLASSES = (
    "traytic.core.bus:BusSettings",
    "traytic.gateway.settings:GatewaySettings",
    "traytic.consumer.settings:ConsumerSettings",
    "traytic.warehouse:WarehouseSettings",
    "traytic.db.settings:DbSettings",
    "traytic.query.settings:QuerySettings",
    "traytic.billing.settings:BillingSettings",
)
COMMANDS = (*ASGI_APPS, "consumer", "migrate", "settings")


def _load(target: str) -> object:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def serve_asgi(command: str) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    from traytic.core.settings import load_settings

    settings_target, app_target = ASGI_APPS[command]
    settings = load_settings(_load(settings_target))  # type: ignore[arg-type]
    Granian(
        app_target,
        address=settings.host,  # type: ignore[attr-defined]
        port=settings.port,  # type: ignore[attr-defined]
        interface=Interfaces.ASGI,
        workers=settings.workers,  # type: ignore[attr-defined]
        factory=True,
        log_access=False,
        backlog=2048,
    ).serve()
    return 0


async def migrate() -> int:
    from traytic.db.migrate import head_revision
    from traytic.db.migrate import migrate as migrate_database
    from traytic.db.settings import load_db_settings
    from traytic.warehouse import load_warehouse_settings, open_warehouse

    store = open_warehouse(load_warehouse_settings())
    try:
        for name in await store.migrate():
            print(f"warehouse: {name}")
    finally:
        await store.close()
    await migrate_database(load_db_settings())
    print(f"database: at {head_revision()}")
    return 0


def print_settings() -> int:
    from traytic.core.settings import describe

    for target in SETTINGS_CLASSES:
        try:
            cls = _load(target)
        except ModuleNotFoundError:
            continue  # that service is not in this image
        print(f"# {cls.__name__}")  # type: ignore[attr-defined]
        for name, default in describe(cls):  # type: ignore[arg-type]
            print(f"{name}={default}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in COMMANDS:
        print(f"usage: traytic {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
        return 2
    command = args[0]
    try:
        if command in ASGI_APPS:
            return serve_asgi(command)
        if command == "consumer":
            from traytic.consumer.main import run_consumer

            return run_consumer()
        if command == "migrate":
            return asyncio.run(migrate())
        return print_settings()
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("traytic"):
            raise
        missing = f"traytic: `{command}` is not part of this image ({exc.name} missing)"
        print(missing, file=sys.stderr)
        return 2
    except Exception as exc:
        from traytic.core.errors import TrayticError

        if not isinstance(exc, TrayticError):
            raise
        print(f"traytic: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
