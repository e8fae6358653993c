"""`traytic dev` as a newcomer meets it: one process, a curl beacon, a row within 2 seconds."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nats
import psutil

from traytic.core.embedded_nats import free_port
from traytic.core.events import LIVE_DECODER


async def test_curl_beacon_becomes_a_row_within_two_seconds(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TRAYTIC_DATA_DIR": str(tmp_path / "data"),
        "TRAYTIC_PORT": str(port),
        "TRAYTIC_LOG_FORMAT": "json",
    }
    env.pop("TRAYTIC_CLICKHOUSE_URL", None)
    log = tmp_path / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "traytic.cli.main", "dev"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        info_file = tmp_path / "data" / "dev.json"
        deadline = time.monotonic() + 60
        while not info_file.exists():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        info = json.loads(info_file.read_text())
        assert info["url"] == f"http://localhost:{port}"
        assert info["site_id"] in log.read_text()  # printed for the newcomer

        live = await nats.connect(info["nats_url"])
        arrived: asyncio.Queue[bytes] = asyncio.Queue()

        async def on_live(message: nats.aio.msg.Msg) -> None:
            await arrived.put(message.data)

        await live.subscribe(f"traytic.live.{info['site_id']}", cb=on_live)
        async with httpx.AsyncClient() as client:
            sent = time.monotonic()
            response = await client.post(
                f"http://127.0.0.1:{port}/collect",
                content=json.dumps(
                    {
                        "siteId": info["site_id"],
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

        children = psutil.Process(process.pid).children(recursive=True)
        assert any("nats-server" in child.name() for child in children)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=30) == 0, log.read_text()
        assert not any(
            child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children
        )
        assert '"inserted": 1' in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
