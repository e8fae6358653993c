"""`traytic demo`: fill the running `traytic dev`'s demo site with a month of believable traffic.

It reads `.traytic/dev.json` (the site and the NATS of `traytic dev`), generates the traffic
(`traffic.py`), posts it through an in-process gateway (`send.py`) and waits, with a progress
bar, until the dev consumer has written all of it to the warehouse.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.parse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from traytic.cli.demo.send import DemoSender, Sent
from traytic.cli.demo.traffic import Person, generate
from traytic.cli.dev_info import DevSettings, read_info
from traytic.cli.geoip import dev_geoip_path
from traytic.consumer.enrich.geo import GeoLocator
from traytic.consumer.settings import ConsumerSettings
from traytic.core import bus
from traytic.core.errors import TrayticError
from traytic.core.logging import configure_logging
from traytic.core.settings import load_settings
from traytic.gateway.settings import GatewaySettings

STORE_TIMEOUT_S = 600.0


class DevNotRunning(TrayticError):
    status = 409
    code = "dev_not_running"


def _dev_info() -> dict[str, Any]:
    data = Path(load_settings(DevSettings).data_dir)
    info = read_info(data / "dev.json")
    if not info.get("site_id") or not info.get("nats_url"):
        raise DevNotRunning(
            f"no demo site in {data / 'dev.json'}: start `make dev` (or `traytic dev`), "
            "then run `traytic demo` beside it"
        )
    return info


async def _check_nats(url: str) -> None:
    parsed = urllib.parse.urlsplit(url.split(",", maxsplit=1)[0].strip())
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parsed.hostname or "127.0.0.1", parsed.port or 4222), 3
        )
    except (OSError, TimeoutError):
        raise DevNotRunning(
            f"traytic dev is not running (nothing answers at {url}): start `make dev`, "
            "then run `traytic demo` beside it"
        ) from None
    writer.close()


async def _send_and_store(people: list[Person], info: dict[str, Any], console: Console) -> Sent:
    bus_settings = load_settings(bus.BusSettings, nats_url=info["nats_url"])
    consumer = load_settings(ConsumerSettings).consumer_name
    sender = DemoSender(load_settings(GatewaySettings), bus_settings)
    total = sum(len(b.events) for p in people for b in p.beacons)
    columns = (
        TextColumn("  {task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        sending = progress.add_task("sent to /collect", total=total)
        async with sender.connected():
            sent = await sender.send(people, lambda n: progress.advance(sending, n))
            storing = progress.add_task("stored (batches)", total=sent.batches)
            deadline = time.monotonic() + STORE_TIMEOUT_S
            while (left := await sender.unstored(consumer)) > 0:
                progress.update(storing, completed=max(0, sent.batches - left))
                if time.monotonic() > deadline:
                    raise TrayticError(f"the dev consumer still has {left} batches to store")
                await asyncio.sleep(0.25)
            progress.update(storing, completed=sent.batches)
    return sent


def run_demo(*, events: int, days: int, seed: int | None, end: float | None) -> int:
    if events < 1 or days < 1:
        raise TrayticError("--events and --days must be at least 1", 400)
    info = _dev_info()
    asyncio.run(_check_nats(info["nats_url"]))
    configure_logging("error")  # the in-process gateway's start and stop are not news here
    console = Console(soft_wrap=True)
    seed = random.SystemRandom().randrange(1 << 31) if seed is None else seed
    started = time.monotonic()
    locator = GeoLocator(dev_geoip_path())
    try:
        people = generate(
            info["site_id"],
            "http://localhost",
            locator,
            events=events,
            days=days,
            end=time.time() if end is None else end,
            seed=seed,
        )
    finally:
        locator.close()
    generated = time.monotonic() - started
    console.print(
        f"  {days} days of traffic for site {info['site_id']}: {len(people):,} visitors"
        f" (seed {seed}, generated in {generated:.1f} s)"
    )
    sent = asyncio.run(_send_and_store(people, info, console))
    stored = time.monotonic() - started - generated
    console.print(
        f"  {sent.events:,} events in {sent.beacons:,} beacons went through /collect in"
        f" {sent.seconds:.1f} s; all stored after {stored:.1f} s.\n"
        f"  Open {info['url']}/sites/{info['site_id']}?period=30d"
    )
    return 0
