"""SIGTERM stops the billing service and the worker alone cleanly: exit status 0, the worker's
round in progress committed (every stored event either applied whole or untouched), nothing
cut off mid-transaction. Real processes, as Kubernetes stops them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from tests.billing.conftest import (
    POLAR_SECRET,
    POLAR_TOKEN,
    MakeMember,
    Member,
    polar_webhook,
    post,
    stored_plan,
)
from tests.billing.payloads import polar_order_paid, polar_subscription_event
from tests.fixtures.clickhouse import free_port
from traytic.db import Database
from traytic.db.models import Invoice, WebhookEvent

BIN = Path(sys.executable).parent


def environment(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAYTIC_")}
    return env | {
        "TRAYTIC_DATABASE_URL": database_url,
        "TRAYTIC_MIGRATE_ON_START": "false",
        "TRAYTIC_POLAR_ACCESS_TOKEN": POLAR_TOKEN,
        "TRAYTIC_POLAR_WEBHOOK_SECRET": POLAR_SECRET,
        "TRAYTIC_POLAR_SERVER": "http://127.0.0.1:9",  # never called here
        "TRAYTIC_POLAR_PRODUCT_PRO": "prod_pro",
        "TRAYTIC_WORKER_POLL_S": "0.05",
        "TRAYTIC_ENFORCE_QUOTAS": "false",
        "TRAYTIC_ENFORCE_RETENTION": "false",
        "TRAYTIC_CHDB_PATH": str(tmp_path / "chdb"),
        "TRAYTIC_LOG_FORMAT": "json",
        "TRAYTIC_METRICS_PORT": "0",  # several at once on one host: no shared metrics port
        **extra,
    }


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # a failed test must not leave a child behind
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def start(
    command: list[str], env: dict[str, str], log: Path, processes: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    processes.append(process)
    return process


def terminate(process: subprocess.Popen[bytes], log: Path) -> str:
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=30)
    text = log.read_text()
    assert status == 0, text
    return text


async def plan_of(db: Database, member: Member) -> str:
    return await stored_plan(db, member.org_id)


async def test_the_service_stops_cleanly_on_sigterm(
    db: Database,
    database_url: str,
    make_member: MakeMember,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    member = await make_member()
    port = free_port()
    log = tmp_path / "billing.log"
    env = environment(database_url, tmp_path, TRAYTIC_PORT=str(port))
    process = start([str(BIN / "traytic-billing")], env, log, processes)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        event = polar_subscription_event(
            "subscription.created",
            status="active",
            org_id=str(member.org_id),
            period_end="2099-01-01T00:00:00Z",
        )
        body, headers = polar_webhook(event)
        response = await http.post("/webhooks/polar", content=body, headers=headers)
        assert response.status_code == 200, response.text
    deadline = time.monotonic() + 30
    while await plan_of(db, member) != "pro":  # the worker inside the service applied it
        assert time.monotonic() < deadline, log.read_text()
        await asyncio.sleep(0.05)
    text = terminate(process, log)
    assert "billing_worker_stopped" in text
    assert "billing_stopped" in text


async def test_the_worker_alone_finishes_its_round_on_sigterm(
    db: Database,
    database_url: str,
    client: AsyncTestClient[Litestar],
    make_member: MakeMember,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    member = await make_member()
    for n in range(200):
        signed = polar_webhook(polar_order_paid(org_id=str(member.org_id), order_id=f"o-{n}"))
        assert (await post(client, "/webhooks/polar", signed)).status_code == 200
    log = tmp_path / "worker.log"
    env = environment(database_url, tmp_path)
    process = start([sys.executable, "-m", "traytic.billing.worker"], env, log, processes)

    async def applied() -> list[WebhookEvent]:
        async with db.session() as session:
            rows = await session.exec(
                select(WebhookEvent).execution_options(populate_existing=True)
            )
            return [e for e in rows.all() if e.processed_at is not None]

    deadline = time.monotonic() + 60
    while not await applied():  # stop it in the middle of the queue
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        await asyncio.sleep(0.02)
    text = terminate(process, log)
    assert "billing_worker_stopped" in text

    async with db.session() as session:
        events = list((await session.exec(select(WebhookEvent))).all())
        invoices = list((await session.exec(select(Invoice))).all())
    done = [e for e in events if e.processed_at is not None]
    # Applied once, or not touched at all: no attempt was cut off (and recorded as failed).
    assert all(e.last_error is None for e in events)
    assert all(e.attempts == (1 if e.processed_at else 0) for e in events)
    assert len(invoices) == len(done) > 0  # every applied event has its invoice, no more
