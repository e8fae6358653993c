"""`traytic consumer` lives as long as its consumer: a consumer task that dies ends the process
with a non-zero status (so Kubernetes restarts it) instead of leaving it up doing nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from tests.consumer.conftest import Publisher, beacon
from traytic.core import bus
from traytic.core.events import Pageview


async def _durable_exists(nc: NatsClient, names: bus.Names) -> bool:
    try:
        await nc.jetstream().consumer_info(names.stream, "traytic-consumer")
    except NotFoundError:
        return False
    return True


async def test_the_process_exits_non_zero_when_its_consumer_dies(
    nc: NatsClient, bus_settings: bus.BusSettings, tmp_path: Path
) -> None:
    names = bus.names(bus_settings.namespace)
    env = {
        **os.environ,
        "TRAYTIC_NATS_URL": bus_settings.nats_url,
        "TRAYTIC_NAMESPACE": bus_settings.namespace,
        "TRAYTIC_CHDB_PATH": str(tmp_path / "chdb"),
        "TRAYTIC_METRICS_PORT": "0",
        "TRAYTIC_LOG_FORMAT": "json",
    }
    env.pop("TRAYTIC_CLICKHOUSE_URL", None)
    log = tmp_path / "consumer.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "traytic.cli.main", "consumer"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120  # a start-up on a loaded machine can be slow
        while not await _durable_exists(nc, names):  # consuming once its durable consumer exists
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.05)
        # The shared session state goes away under it: the next visitor cannot be placed.
        await nc.jetstream().delete_key_value(names.sessions_bucket)
        await Publisher(nc, bus_settings).publish([beacon([Pageview(url="https://example.com/")])])
        status = await asyncio.to_thread(process.wait, 120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert status == 1, log.read_text()
    assert '"consumer_died"' in log.read_text()
