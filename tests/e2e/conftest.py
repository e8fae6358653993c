"""End-to-end fixtures: `traytic dev` as a real process, as a newcomer starts it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import msgspec
import nats
import pytest

from traytic.core import bus
from traytic.core.embedded_nats import free_port
from traytic.core.sites import get_site


class DevProcess(msgspec.Struct):
    process: subprocess.Popen[bytes]
    log: Path
    url: str
    site_id: str
    nats_url: str
    port: int
    metrics_url: str | None = None

    def log_text(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def start_dev(data_dir: Path, settings: Mapping[str, str] | None = None) -> DevProcess:
    """`traytic dev` in `data_dir` on a free port; `settings` adds TRAYTIC_* variables."""
    port = free_port()
    env = {
        **os.environ,
        "TRAYTIC_DATA_DIR": str(data_dir),
        "TRAYTIC_PORT": str(port),
        "TRAYTIC_METRICS_PORT": str(free_port()),
        "TRAYTIC_LOG_FORMAT": "json",
        **(settings or {}),
    }
    env.pop("TRAYTIC_CLICKHOUSE_URL", None)
    log = data_dir.parent / f"{data_dir.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "traytic.cli.main", "dev"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    info_file = data_dir / "dev.json"
    # Start-up imports chDB and migrates two databases: about 10 s on a quiet machine, over a
    # minute on a loaded one; the deadline only catches a process that will never come up.
    deadline = time.monotonic() + 180
    while not info_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("traytic dev did not start:\n" + log.read_text())
        time.sleep(0.1)
    try:
        info = json.loads(info_file.read_text())
    except BaseException:
        process.kill()  # never left running behind a failed fixture
        raise
    return DevProcess(
        process,
        log,
        info["url"],
        info["site_id"],
        info["nats_url"],
        port,
        info.get("metrics_url"),
    )


def allow_hostnames(dev: DevProcess, hostnames: Sequence[str]) -> None:
    """Let the demo site (on localhost) take beacons from test pages on `hostnames`, as its owner
    would in the site settings; returns once the registry the gateway watches has the change."""
    info = json.loads((dev.log.parent / dev.log.stem / "dev.json").read_text())
    with httpx.Client(base_url=dev.url, timeout=10) as client:
        signed_in = client.post(
            "/api/auth/login", json={"email": info["email"], "password": info["password"]}
        )
        assert signed_in.status_code == 200, signed_in.text
        changed = client.patch(
            f"/api/orgs/{info['organisation_id']}/sites/{dev.site_id}",
            json={"allowedHostnames": list(hostnames)},
            headers={"X-CSRF-Token": client.cookies["traytic_csrf"]},
        )
        assert changed.status_code == 200, changed.text

    async def registered() -> None:
        nc = await nats.connect(dev.nats_url)
        try:
            kv = await bus.ensure_sites_bucket(nc.jetstream(), bus.BusSettings())
            deadline = time.monotonic() + 20
            while True:
                record = await get_site(kv, dev.site_id)
                if record is not None and set(hostnames) <= set(record.allowed_hostnames):
                    return
                assert time.monotonic() < deadline, "the site registry did not learn the hostnames"
                await asyncio.sleep(0.05)
        finally:
            await nc.close()

    asyncio.run(registered())


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    running = start_dev(tmp_path_factory.mktemp("dev") / "data")
    yield running
    running.stop()
