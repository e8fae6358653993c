"""A start-up step that fails closes what the steps before it opened: here JetStream is off on
the NATS server, so opening the `sites` bucket fails after the warehouse client, the database
and the NATS connection are open."""

from __future__ import annotations

from litestar import Litestar
from nats.js.errors import Error as JetStreamError

from tests.fixtures.leaks import PlainNats, failed_start, nats_without_jetstream  # noqa: F401
from traytic.core.bus import BusSettings
from traytic.db import DbSettings
from traytic.query.app import Query
from traytic.query.settings import QuerySettings
from traytic.warehouse import WarehouseSettings


async def test_a_failed_start_leaves_nothing_open(
    query_settings: QuerySettings,
    db_settings: DbSettings,
    clean_database: None,
    nats_without_jetstream: PlainNats,  # noqa: F811
    namespace: str,
) -> None:
    query = Query(
        query_settings,
        db_settings,
        BusSettings(nats_url=nats_without_jetstream.url, namespace=namespace),
        # The server backend's client is opened first; its server is never asked anything.
        WarehouseSettings(clickhouse_url="http://127.0.0.1:9/"),
    )
    app = Litestar(route_handlers=query.route_handlers, lifespan=[query.lifespan])
    failed, left_open = await failed_start(app)
    assert failed.group_contains(JetStreamError)
    assert left_open == []
    assert nats_without_jetstream.connections("traytic-query") == 0
    assert getattr(app.state, "warehouse", None) is None
