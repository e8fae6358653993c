"""`/api/stream/{siteId}` on a real NATS and chDB: events of its site only, the visitor count
(seeded from the warehouse, then grown by live events), heartbeats, the subscription freed on
disconnect, the per-caller cap, and the stats endpoints' access rules.

Litestar's test client buffers a response until it ends, so streams are driven here by calling
the ASGI app directly (on the test's event loop, where the lifespan also runs)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from nats.aio.client import Client as NatsClient

from tests.fixtures.clickhouse import fresh_chdb_settings, fresh_warehouse
from tests.query.conftest import Api, fast_settings
from tests.warehouse.stats.dataset import event
from traytic.core import bus
from traytic.core.events import JSON_ENCODER, LiveBatch, LiveEvent
from traytic.db import DbSettings
from traytic.query.app import Query, create_app
from traytic.query.live import VisitorWindow
from traytic.warehouse import Warehouse


def live_event(visitor: str = "v1", pathname: str = "/") -> LiveEvent:
    return LiveEvent(
        ts=int(time.time() * 1000), type="pageview", name="", hostname="example.com",
        pathname=pathname, referrer_source="", channel="Direct", country="DE", city="Berlin",
        browser="Firefox", os="Linux", device="desktop", visitor_id=visitor,
    )  # fmt: skip


class SseStream:
    """One SSE response, read as it arrives; `close()` is the browser going away."""

    def __init__(self, app: Litestar, path: str, headers: dict[str, str]) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.text = ""
        self._started = asyncio.Event()
        self._more = asyncio.Event()
        self._disconnect = asyncio.Event()
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "root_path": "", "query_string": b"", "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
            "headers": [(b"host", b"test")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }  # fmt: skip
        self.task = asyncio.create_task(app(scope, self._receive, self._send))  # type: ignore[arg-type]

    async def _receive(self) -> dict[str, Any]:
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            self._started.set()
        elif message["type"] == "http.response.body":
            self.text += message.get("body", b"").decode()
            self._more.set()

    async def started(self) -> int:
        await asyncio.wait_for(self._started.wait(), 5)
        assert self.status is not None
        return self.status

    async def wait_for(self, needle: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            self._more.clear()
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} never arrived in {self.text!r}"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._more.wait(), left)
        return self.text

    async def close(self) -> None:
        self._disconnect.set()
        await asyncio.wait_for(self.task, 5)


@contextlib.asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[Api]:
    """The app's lifespan in a task of its own (entered and exited there, as under a server)
    and an `Api` over it."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    server = asyncio.create_task(serve())
    try:
        await asyncio.wait_for(started.wait(), 10)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, None)  # type: ignore[arg-type]
    finally:
        stop.set()
        await server


@pytest.fixture
async def warehouse(chdb_path: str) -> AsyncIterator[Warehouse]:
    async with fresh_warehouse(fresh_chdb_settings(chdb_path)) as store:
        yield store


@pytest.fixture
async def running(
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    clean_database: None,
    warehouse: Warehouse,
) -> AsyncIterator[tuple[Litestar, Api]]:
    settings = fast_settings(
        stream_heartbeat_s=0.3, stream_visitors_interval_s=0.2, stream_max_per_caller=2
    )
    app = create_app(settings, db_settings, bus_settings)
    app.state.warehouse = warehouse  # the lifespan keeps a warehouse it is given
    async with serving(app) as api:
        yield app, api


def query_of(app: Litestar) -> Query:
    query: Query = app.state.query
    return query


async def publish(nc: NatsClient, namespace: str, site_id: str, *events: LiveEvent) -> None:
    batch = LiveBatch(site_id=site_id, events=list(events))
    await nc.publish(bus.live_subject(namespace, site_id), JSON_ENCODER.encode(batch))
    await nc.flush()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_stream_sends_its_sites_events_only(
    running: tuple[Litestar, Api], nc: NatsClient, namespace: str
) -> None:
    app, api = running
    owner = await api.signup()
    site, other = await api.create_site(owner), await api.create_site(owner, "other.example")
    key = (await api.create_key(owner))["key"]
    stream = SseStream(app, f"/api/stream/{site['id']}", bearer(key))
    assert await stream.started() == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    await stream.wait_for("retry: 3000")
    await publish(nc, namespace, other["id"], live_event(pathname="/elsewhere"))
    await publish(nc, namespace, site["id"], live_event(pathname="/hello"))
    text = await stream.wait_for('"pathname":"/hello"')
    # unnamed, so a browser's `es.onmessage` gets it: the line before `data:` ends the last event
    assert re.search(r'(?:^|\r\n\r\n)data: \{[^\r]*"pathname":"/hello"', text), text
    assert "event: live" not in text
    assert "/elsewhere" not in text
    assert "v1" not in text  # no visitor hash, and LiveEvent never had an IP or user agent
    await stream.close()


async def test_visitor_count_and_heartbeats(
    running: tuple[Litestar, Api], nc: NatsClient, namespace: str
) -> None:
    app, api = running
    owner = await api.signup()
    site = await api.create_site(owner)
    stream = SseStream(app, f"/api/stream/{site['id']}", owner.headers(csrf=False))
    assert await stream.started() == 200
    await stream.wait_for('event: visitors\r\ndata: {"visitors":0}')
    await publish(nc, namespace, site["id"], live_event("a"), live_event("b"), live_event("a"))
    await stream.wait_for('data: {"visitors":2}')
    await stream.wait_for(": ping")
    await stream.close()


async def test_disconnect_frees_the_subscription(
    running: tuple[Litestar, Api], nc: NatsClient, namespace: str
) -> None:
    app, api = running
    owner = await api.signup()
    site = await api.create_site(owner)
    created = await api.create_key(owner)
    key = created["key"]
    query = query_of(app)
    assert query.nc is not None and query.context is not None
    before = len(query.nc._subs)
    streams = [SseStream(app, f"/api/stream/{site['id']}", bearer(key)) for _ in range(2)]
    for stream in streams:
        await stream.wait_for("retry:")
    assert len(query.nc._subs) == before + 1  # one subscription per site, shared
    await streams[0].close()
    await publish(nc, namespace, site["id"], live_event(pathname="/still"))
    await streams[1].wait_for("/still")
    await streams[1].close()
    await eventually(lambda: len(query.nc._subs) == before)  # the server side closes after us
    assert query.context.live.watched_sites == 0
    assert query.context.stream_slots.open_streams(f"key:{created['id']}") == 0
    again = SseStream(app, f"/api/stream/{site['id']}", bearer(key))  # slots were released
    assert await again.started() == 200
    await again.close()
    await eventually(lambda: len(query.nc._subs) == before)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for the server side of a closed stream to finish its clean-up."""
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


async def test_stream_cap_per_caller(running: tuple[Litestar, Api]) -> None:
    app, api = running
    owner = await api.signup()
    site = await api.create_site(owner)
    key = (await api.create_key(owner))["key"]
    streams = [SseStream(app, f"/api/stream/{site['id']}", bearer(key)) for _ in range(2)]
    for stream in streams:
        assert await stream.started() == 200
    over = await api.call("GET", f"/api/stream/{site['id']}", key=key)
    assert over.status_code == 429, over.text
    assert int(over.headers["retry-after"]) >= 1
    mine = SseStream(app, f"/api/stream/{site['id']}", owner.headers(csrf=False))
    assert await mine.started() == 200  # another caller has its own streams
    for stream in [*streams, mine]:
        await stream.close()


async def test_stream_access(running: tuple[Litestar, Api]) -> None:
    app, api = running
    owner = await api.signup()
    site = await api.create_site(owner)
    url = f"/api/stream/{site['id']}"
    assert (await api.call("GET", url)).status_code == 401
    assert (await api.call("GET", url, key="tk_wrong")).status_code == 401
    stranger = await api.signup()
    foreign_key = (await api.create_key(stranger))["key"]
    foreign = await api.call("GET", url, key=foreign_key)
    unknown = await api.call("GET", "/api/stream/st_nothing", key=foreign_key)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert (await api.call("GET", url, stranger)).status_code == 404

    made_public = await api.call(
        "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json={"public": True}
    )
    assert made_public.status_code == 200, made_public.text
    anonymous = SseStream(app, url, {})
    assert await anonymous.started() == 200
    await anonymous.close()


async def test_stream_is_documented(running: tuple[Litestar, Api]) -> None:
    _, api = running
    schema = (await api.call("GET", "/docs/openapi.json")).json()
    assert "get" in schema["paths"]["/api/stream/{site_id}"]


async def test_two_replicas_both_stream_the_event(
    running: tuple[Litestar, Api],
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    nc: NatsClient,
    namespace: str,
) -> None:
    app, api = running
    owner = await api.signup()
    site = await api.create_site(owner)
    key = (await api.create_key(owner))["key"]
    replica = create_app(fast_settings(), db_settings, bus_settings)
    replica.state.warehouse = app.state.warehouse
    async with serving(replica):
        streams = []
        for each in (app, replica):  # one after the other: two SQLite engines share a file
            streams.append(SseStream(each, f"/api/stream/{site['id']}", bearer(key)))
            await streams[-1].wait_for("retry:")
        await publish(nc, namespace, site["id"], live_event(pathname="/everywhere"))
        for stream in streams:
            await stream.wait_for("/everywhere")
            await stream.close()


def visitor_counts(text: str) -> list[int]:
    return [int(n) for n in re.findall(r'event: visitors\r\ndata: \{"visitors":(\d+)\}', text)]


async def test_visitor_count_starts_from_the_warehouse(
    running: tuple[Litestar, Api], warehouse: Warehouse, nc: NatsClient, namespace: str
) -> None:
    app, api = running
    owner = await api.signup()
    site = await api.create_site(owner)
    now = int(time.time())
    rows = [
        event(site_id=site["id"], visitor_id=0xA1, ts=now - 20),
        event(site_id=site["id"], visitor_id=0xA1, ts=now - 250),
        event(site_id=site["id"], visitor_id=0xB2, ts=now - 120, type="event", name="signup"),
        event(site_id=site["id"], visitor_id=0xC3, ts=now - 200),
        event(site_id=site["id"], visitor_id=2**64 - 1, ts=now - 60),
        event(site_id=site["id"], visitor_id=0xD4, ts=now - 420),  # before the five minutes
        event(site_id=site["id"], visitor_id=0xD5, ts=now - 3600),
        event(site_id=site["id"], visitor_id=0xE6, ts=now - 10, type="vital", name="LCP"),
        event(site_id="st_other", visitor_id=0xF7, ts=now - 10),
    ]
    await warehouse.insert_events(rows)
    recent = {
        f"{row.visitor_id:016x}"
        for row in rows
        if row.site_id == site["id"] and row.ts >= now - 300 and row.type in ("pageview", "event")
    }
    assert len(recent) == 4

    stream = SseStream(app, f"/api/stream/{site['id']}", owner.headers(csrf=False))
    assert await stream.started() == 200
    await stream.wait_for("event: visitors")
    assert visitor_counts(stream.text)[0] == len(recent)

    known = f"{0xB2:016x}"  # seen in the warehouse and now live: counted once
    await publish(nc, namespace, site["id"], live_event(known), live_event("00000000000000ff"))
    await stream.wait_for(f'data: {{"visitors":{len(recent) + 1}}}')
    grown = visitor_counts(stream.text).index(len(recent) + 1)
    await eventually(lambda: len(visitor_counts(stream.text)) >= grown + 4)  # a few more counts
    counts = visitor_counts(stream.text)
    assert counts[:grown] == [len(recent)] * grown
    assert set(counts[grown:]) == {len(recent) + 1}
    assert known not in stream.text
    await stream.close()


async def test_stream_counts_live_visitors_when_the_warehouse_fails(
    running: tuple[Litestar, Api],
    chdb_path: str,
    nc: NatsClient,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, api = running
    owner = await api.signup()
    site = await api.create_site(owner)
    async with fresh_warehouse(fresh_chdb_settings(chdb_path), migrated=False) as no_events_table:
        app.state.warehouse = no_events_table
        stream = SseStream(app, f"/api/stream/{site['id']}", owner.headers(csrf=False))
        assert await stream.started() == 200
        await stream.wait_for('event: visitors\r\ndata: {"visitors":0}')
        await publish(nc, namespace, site["id"], live_event("a"), live_event("b"))
        await stream.wait_for('data: {"visitors":2}')
        await stream.close()
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("event") == "live_seed_failed"]
    assert len(failed) == 1, lines
    assert failed[0]["level"] == "warning" and failed[0]["site_id"] == site["id"]


def test_window_merge_keeps_each_visitors_latest_sighting() -> None:
    now = [1000.0]
    window = VisitorWindow(lambda: now[0], window_s=300)
    window.see("live")
    window.see("both")
    window.merge({"both": 800.0, "old": 750.0, "recent": 950.0, "future": 1010.0})
    assert window.count() == 5
    now[0] = 1051.0  # "old" (750) ages out; "both" keeps its live sighting at 1000
    assert window.count() == 4
    now[0] = 1251.0  # "recent" (950) goes; the rest were seen at 1000 (the future one clamped)
    assert window.count() == 3
    now[0] = 1301.0
    assert window.count() == 0
