"""Live streams follow access at once, on every replica: revoking a key, removing a member,
ending a session, making a site private or deleting it ends the streams that access allowed
(announced over NATS; the periodic re-check, here set far off, plays no part), while the other
streams go on. The periodic re-check alone ends a stream whose session expired."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar

from tests.query.conftest import Account, Api, fast_settings
from tests.query.test_stream import (  # noqa: F401 - `warehouse` is a fixture, reused by name
    SseStream,
    bearer,
    serving,
    warehouse,
)
from traytic.core import bus
from traytic.db import Database, DbSettings
from traytic.query.app import create_app
from traytic.query.stream_access import OpenStreams
from traytic.warehouse import Warehouse


@contextlib.asynccontextmanager
async def two_replicas(
    db_settings: DbSettings, bus_settings: bus.BusSettings, store: Warehouse, **settings: float
) -> AsyncIterator[tuple[Litestar, Litestar, Api]]:
    apps = []
    for _ in range(2):
        app = create_app(fast_settings(**settings), db_settings, bus_settings)
        app.state.warehouse = store
        apps.append(app)
    async with serving(apps[0]) as api, serving(apps[1]):
        yield apps[0], apps[1], api


class EndingStream(SseStream):
    """An SSE response that notes when the server ends its body (a real server then hangs up;
    this client, like a browser, would otherwise wait)."""

    def __init__(self, app: Litestar, path: str, headers: dict[str, str]) -> None:
        self.finished = asyncio.Event()
        super().__init__(app, path, headers)

    async def _send(self, message: dict[str, Any]) -> None:
        await super()._send(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished.set()


async def ended(stream: EndingStream, timeout: float = 5.0) -> bool:
    """The server ended the response by itself (the client never left)."""
    try:
        await asyncio.wait_for(stream.finished.wait(), timeout)
    except TimeoutError:
        return False
    return True


def cookie(account: Account) -> dict[str, str]:
    return account.headers(csrf=False)


async def open_stream(app: Litestar, site_id: str, headers: dict[str, str]) -> EndingStream:
    stream = EndingStream(app, f"/api/stream/{site_id}", headers)
    assert await stream.started() == 200
    await stream.wait_for("retry:")
    return stream


async def test_revoking_removing_and_unpublishing_end_streams_everywhere(
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    clean_database: None,
    warehouse: Warehouse,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with two_replicas(db_settings, bus_settings, warehouse, stream_recheck_s=600) as (
        one,
        two,
        served,
    ):
        api = Api(served.client, capsys)  # invitation links are read from the console
        owner = await api.signup()
        viewer = await api.signup()
        await api.add_member(owner, viewer, "viewer")
        site = await api.create_site(owner)
        key = await api.create_key(owner)
        public = await api.call(
            "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json={"public": True}
        )
        assert public.status_code == 200
        by_key = [await open_stream(app, site["id"], bearer(key["key"])) for app in (one, two)]
        by_viewer = [await open_stream(app, site["id"], cookie(viewer)) for app in (one, two)]
        anonymous = [await open_stream(app, site["id"], {}) for app in (one, two)]
        by_owner = await open_stream(two, site["id"], cookie(owner))

        revoked = await api.call("DELETE", f"/api/orgs/{owner.org_id}/keys/{key['id']}", owner)
        assert revoked.status_code == 204
        assert all([await ended(stream) for stream in by_key])
        assert not await ended(by_viewer[0], timeout=0.5)

        removed = await api.call(
            "DELETE", f"/api/orgs/{owner.org_id}/members/{viewer.user_id}", owner
        )
        assert removed.status_code == 204
        # Still readable: the site is public, and a removed member reads it like anyone.
        assert not await ended(by_viewer[1], timeout=0.5)
        private = await api.call(
            "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json={"public": False}
        )
        assert private.status_code == 200
        assert all([await ended(stream) for stream in [*by_viewer, *anonymous]])
        assert not await ended(by_owner, timeout=0.5)

        deleted = await api.call("DELETE", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner)
        assert deleted.status_code == 204
        assert await ended(by_owner)
        for stream in [*by_key, *by_viewer, *anonymous, by_owner]:
            await stream.close()  # the browser hangs up


async def test_a_stream_ends_when_its_session_does(
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    clean_database: None,
    warehouse: Warehouse,  # noqa: F811
) -> None:
    async with two_replicas(
        db_settings, bus_settings, warehouse, stream_recheck_s=0.3, session_lifetime_s=2
    ) as (one, _, api):
        owner = await api.signup()
        site = await api.create_site(owner)
        stream = await open_stream(one, site["id"], cookie(owner))
        assert not await ended(stream, timeout=0.5)
        assert await ended(stream, timeout=5)  # expired at 2 s, found by the next re-check
        await stream.close()


async def test_the_recheck_loop_stops_when_cancelled_as_an_announcement_arrives(
    nc: Any, bus_settings: bus.BusSettings
) -> None:
    """Shutdown right after an access change (a test's teardown, a deploy): the cancellation
    and the announcement meet in one loop turn. `asyncio.wait_for` on 3.11 kept the event and
    dropped the cancellation, and the query service's lifespan waited for ever."""
    streams = OpenStreams(
        Database.from_settings(DbSettings(database_url="sqlite+aiosqlite://")),
        bus_settings.namespace,
    )
    for _ in range(20):  # the race is per turn: try it many times
        task = asyncio.create_task(streams.run(nc, interval_s=3600.0))
        while streams.nc is None:
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)  # parked in its wait
        streams.wanted()
        task.cancel()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 5.0)
        assert task.cancelled()
        streams.nc = None
    await streams.db.dispose()
