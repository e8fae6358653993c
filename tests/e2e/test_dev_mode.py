"""`traytic dev` as a newcomer meets it: one process, a curl beacon, a row within 2 seconds."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import nats
import psutil

from tests.e2e.conftest import start_dev
from traytic.core.events import LIVE_DECODER


async def test_curl_beacon_becomes_a_row_within_two_seconds(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        assert dev.url == f"http://localhost:{dev.port}"
        assert dev.site_id in dev.log_text()  # printed for the newcomer

        live = await nats.connect(dev.nats_url)
        arrived: asyncio.Queue[bytes] = asyncio.Queue()

        async def on_live(message: nats.aio.msg.Msg) -> None:
            await arrived.put(message.data)

        await live.subscribe(f"traytic.live.{dev.site_id}", cb=on_live)
        async with httpx.AsyncClient() as client:
            sent = time.monotonic()
            response = await client.post(
                f"http://127.0.0.1:{dev.port}/collect",
                content=json.dumps(
                    {
                        "siteId": dev.site_id,
                        "events": [{"type": "pageview", "url": "http://localhost/hello"}],
                    }
                ),
                headers={
                    "content-type": "text/plain",
                    "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                },
            )
            assert response.status_code == 204
            # Live events are published only after the insert succeeded: this is the row.
            batch = LIVE_DECODER.decode(await asyncio.wait_for(arrived.get(), timeout=2.0))
            assert time.monotonic() - sent < 2.0
        assert [(e.type, e.pathname, e.browser) for e in batch.events] == [
            ("pageview", "/hello", "Firefox")
        ]
        await live.close()

        # Metrics: every service's on the metrics port (printed), none on the public port.
        assert dev.metrics_url and dev.metrics_url in dev.log_text()
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{dev.port}/metrics")).status_code == 404
            scraped = (await client.get(dev.metrics_url)).text
        assert "traytic_gateway_beacons_accepted_total 1.0" in scraped
        assert "traytic_consumer_events_inserted_total" in scraped
        assert "traytic_query_sse_clients" in scraped

        children = psutil.Process(dev.process.pid).children(recursive=True)
        assert any("nats-server" in child.name() for child in children)
        assert dev.stop() == 0, dev.log_text()
        assert not any(
            child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children
        )
        assert '"inserted": 1' in dev.log_text()
    finally:
        dev.stop()


async def test_printed_login_and_key_work_and_survive_a_restart(tmp_path: Path) -> None:
    first = start_dev(tmp_path / "data")
    try:
        info = json.loads((tmp_path / "data" / "dev.json").read_text())
        assert info["password"] in first.log_text() and info["api_key"] in first.log_text()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{first.port}") as client:
            login = await client.post(
                "/api/auth/login", json={"email": info["email"], "password": info["password"]}
            )
            assert login.status_code == 200, login.text
            me = await client.get(
                "/api/auth/me", headers={"authorization": f"Bearer {info['api_key']}"}
            )
            assert me.status_code == 200, me.text
            assert (await client.get("/docs")).status_code == 200
            billing = await client.get("/api/billing")  # no provider configured: free, billing off
            assert billing.status_code == 404
            assert billing.json()["error"] == "billing_not_configured"
    finally:
        assert first.stop() == 0
    (tmp_path / "data" / "dev.json").unlink()  # lost: the password is reset, a key minted
    second = start_dev(tmp_path / "data")
    try:
        again = json.loads((tmp_path / "data" / "dev.json").read_text())
        assert again["site_id"] == first.site_id
        assert again["api_key"] != info["api_key"]
        [banner_line] = [line for line in second.log_text().splitlines() if "API key" in line]
        assert banner_line.split() == ["API", "key", again["api_key"]]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{second.port}") as client:
            login = await client.post(
                "/api/auth/login", json={"email": again["email"], "password": again["password"]}
            )
            assert login.status_code == 200, login.text
            me = await client.get(
                "/api/auth/me", headers={"authorization": f"Bearer {again['api_key']}"}
            )
            assert me.status_code == 200, me.text
            beacon = {
                "siteId": again["site_id"],
                "events": [{"type": "pageview", "url": "http://localhost/"}],
            }
            assert (await client.post("/collect", json=beacon)).status_code == 204
    finally:
        second.stop()


async def test_a_beacon_reaches_the_sse_stream_and_the_stats(tmp_path: Path) -> None:
    """The whole path a dashboard sees: POST /collect → gateway → JetStream → consumer →
    warehouse → live subject → /api/stream, then the stored visit in /api/events."""
    dev = start_dev(tmp_path / "data")
    try:
        info = json.loads((tmp_path / "data" / "dev.json").read_text())
        auth = {"authorization": f"Bearer {info['api_key']}"}
        marker = f"/e2e/{time.monotonic_ns()}"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{dev.port}", timeout=10) as client:
            seen: asyncio.Queue[str] = asyncio.Queue()

            async def listen() -> None:
                async with client.stream(
                    "GET", f"/api/stream/{dev.site_id}", headers=auth
                ) as stream:
                    assert stream.status_code == 200
                    async for line in stream.aiter_lines():
                        await seen.put(line)

            listener = asyncio.create_task(listen())
            try:
                while "retry:" not in await asyncio.wait_for(seen.get(), 10):
                    pass  # the stream is open and subscribed
                beacon = {
                    "siteId": dev.site_id,
                    "events": [{"type": "pageview", "url": f"http://localhost{marker}"}],
                }
                posted = await client.post(
                    "/collect",
                    content=json.dumps(beacon),
                    headers={"content-type": "text/plain", "user-agent": "Mozilla/5.0 e2e"},
                )
                assert posted.status_code == 204
                deadline = time.monotonic() + 5
                line = ""
                while marker not in line:
                    line = await asyncio.wait_for(seen.get(), deadline - time.monotonic())
                event = json.loads(line.removeprefix("data:").strip())
                assert event["pathname"] == marker
            finally:
                listener.cancel()
            pages = await client.get(
                f"/api/events/{dev.site_id}/pages?period=24h&limit=100", headers=auth
            )
            assert pages.status_code == 200, pages.text
            assert marker in [row["value"] for row in pages.json()["entryPages"]]
    finally:
        assert dev.stop() == 0
