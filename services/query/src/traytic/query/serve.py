"""`traytic-query` (and `traytic query`): the query service alone under Granian.

`traytic-query migrate` applies the warehouse and database migrations: this service's image is
the one that holds both packages, so it runs the one-shot migration job of a deployment.
"""

from __future__ import annotations

import asyncio
import sys

from traytic.core.settings import load_settings
from traytic.http.serving import serve_with_granian
from traytic.query.settings import QuerySettings


async def migrate() -> int:
    from traytic.db.migrate import head_revision
    from traytic.db.migrate import migrate as migrate_database
    from traytic.db.settings import DbSettings
    from traytic.warehouse import WarehouseSettings, open_warehouse

    store = open_warehouse(load_settings(WarehouseSettings))
    try:
        for name in await store.migrate():
            print(f"warehouse: {name}")
    finally:
        await store.close()
    await migrate_database(load_settings(DbSettings))
    print(f"database: at {head_revision()}")
    return 0


def main() -> int:
    if sys.argv[1:] == ["migrate"]:
        return asyncio.run(migrate())
    settings = load_settings(QuerySettings)
    return serve_with_granian(
        "traytic.query.app:create_app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
    )
