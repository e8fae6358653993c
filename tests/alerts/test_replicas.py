"""Two scheduler replicas (two `traytic billing` processes) on one PostgreSQL and one ClickHouse
server share the work: every report goes to every recipient once. One replica is killed
(SIGKILL) while a webhook receiver holds its request unanswered, then started again: the other
takes the delivery over when the lease ends and sends it again with the same idempotency key,
so the receiver, keeping one message per key, has each message exactly once; nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from sqlmodel import select

from tests.alerts.conftest import World
from tests.alerts.receivers import Receiver, SmtpServer
from tests.fixtures.clickhouse import free_port
from traytic.db.models import Delivery, Recipient
from traytic.db.repositories.recipients import RecipientSpec
from traytic.warehouse import WarehouseSettings

pytestmark = [
    pytest.mark.parametrize("dialect", ["postgresql"], indirect=True),
    pytest.mark.parametrize("warehouse_settings", ["server"], indirect=True),
]
BIN = Path(sys.executable).parent
HOOKS = [f"/hook/r{n}" for n in range(6)]
EMAILS = [f"reader{n}@example.com" for n in range(4)]


def _env(
    database_url: str, warehouse: WarehouseSettings, smtp: SmtpServer, port: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAYTIC_")}
    return env | {
        "TRAYTIC_PORT": str(port),
        "TRAYTIC_METRICS_PORT": "0",  # replicas on one host: no shared metrics port
        "TRAYTIC_DATABASE_URL": database_url,
        "TRAYTIC_MIGRATE_ON_START": "false",
        "TRAYTIC_CLICKHOUSE_URL": warehouse.clickhouse_url,
        "TRAYTIC_CLICKHOUSE_DATABASE": warehouse.clickhouse_database,
        "TRAYTIC_ENFORCE_RETENTION": "false",
        "TRAYTIC_LOG_FORMAT": "json",
        "TRAYTIC_PUBLIC_URL": "http://traytic.test",
        "TRAYTIC_SMTP_HOST": smtp.host,
        "TRAYTIC_SMTP_PORT": str(smtp.port),
        "TRAYTIC_SMTP_CA_FILE": smtp.ca_file,
        "TRAYTIC_MAIL_FROM": "Traytic <reports@traytic.test>",
        "TRAYTIC_ALERTS_TICK_S": "0.1",
        "TRAYTIC_ALERTS_LEASE_S": "4",
        "TRAYTIC_ALERTS_HTTP_TIMEOUT_S": "2",
        "TRAYTIC_SMTP_TIMEOUT_S": "2",
        "TRAYTIC_ALERTS_BATCH": "2",
        "TRAYTIC_ALERTS_CONCURRENCY": "2",
    }


@pytest.fixture
def replicas() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # a failed test must not leave a child behind
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _start(env: dict[str, str], log: Path, replicas: list[subprocess.Popen[bytes]]) -> None:
    with log.open("ab") as output:
        replicas.append(
            subprocess.Popen(
                [str(BIN / "traytic"), "billing"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Granian's worker goes with it
            )
        )


def _holder(
    replicas: list[subprocess.Popen[bytes]], port: int, peer_port: int
) -> subprocess.Popen[bytes]:
    """The replica whose process tree owns the held connection: to the receiver's port, from
    `peer_port`. (Another replica may have a request of its own open to the receiver then.)"""
    for process in replicas:
        if process.poll() is not None:
            continue
        root = psutil.Process(process.pid)
        for member in [root, *root.children(recursive=True)]:
            for connection in member.net_connections(kind="tcp"):
                if (
                    connection.raddr
                    and connection.raddr.port == port
                    and connection.laddr.port == peer_port
                ):
                    return process
    raise AssertionError("no replica holds the receiver's connection")


async def test_two_replicas_and_a_kill_mid_send_deliver_each_message_once(
    world: World,
    database_url: str,
    warehouse_settings: WarehouseSettings,
    smtp: SmtpServer,
    http_receiver: Receiver,
    replicas: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    wanted = [RecipientSpec("webhook", f"{http_receiver.url}/hook/hold")]
    wanted += [RecipientSpec("webhook", f"{http_receiver.url}{hook}") for hook in HOOKS]
    wanted += [RecipientSpec("email", address) for address in EMAILS]
    await world.report(wanted)
    async with world.db.session() as session:  # due a minute ago (the replicas use real time)
        for recipient in (await session.exec(select(Recipient))).all():
            recipient.next_run_at = datetime.now(UTC) - timedelta(minutes=1)
    ports = [free_port(), free_port()]
    logs = [tmp_path / "replica-0.log", tmp_path / "replica-1.log"]
    for port, log in zip(ports, logs, strict=True):
        _start(_env(database_url, warehouse_settings, smtp, port), log, replicas)

    assert await asyncio.to_thread(http_receiver.holding.wait, 60), "nothing reached the hold"
    port = int(http_receiver.url.rsplit(":", 1)[1])
    victim = _holder(replicas, port, http_receiver.held_from)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    http_receiver.release.set()  # the receiver had it whole; the sender never heard back
    index = replicas.index(victim)
    _start(_env(database_url, warehouse_settings, smtp, free_port()), logs[index], replicas)

    held = await asyncio.to_thread(http_receiver.wait_for, "/hook/hold", 2, 60)
    for hook in HOOKS:
        await asyncio.to_thread(http_receiver.wait_for, hook, 1, 60)
    await asyncio.to_thread(smtp.mailbox.wait_for, len(EMAILS), 60)
    await asyncio.sleep(2.0)  # more rounds on both replicas: nothing more arrives

    assert held[0].headers["idempotency-key"] == held[1].headers["idempotency-key"]
    assert held[0].body == held[1].body
    # Each message once, as a receiver keeping one per key has them; a message arrives twice
    # only if the killed replica was sending it (then with the same key and body).
    by_key: dict[str, list[bytes]] = {}
    for arrival in http_receiver.arrivals:
        by_key.setdefault(arrival.headers["idempotency-key"], []).append(arrival.body)
    assert len(by_key) == 1 + len(HOOKS)
    assert all(len(set(bodies)) == 1 for bodies in by_key.values())
    by_message_id: dict[str, list[str]] = {}
    for message in smtp.mailbox.messages:
        by_message_id.setdefault(message["Message-ID"], []).append(message["To"])
    assert sorted(to[0] for to in by_message_id.values()) == sorted(EMAILS)
    resent = {
        target for target, times in
        [(h, len(http_receiver.at(h))) for h in ["/hook/hold", *HOOKS]]
        + [(to[0], len(to)) for to in by_message_id.values()]
        if times > 1
    }  # fmt: skip

    deadline = time.monotonic() + 20
    while True:
        async with world.db.session() as session:
            rows = (await session.exec(select(Delivery))).all()
        if all(row.status == "sent" for row in rows) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert len(rows) == len(wanted) and {row.status for row in rows} == {"sent"}
    taken_over = {row.target.removeprefix(http_receiver.url) for row in rows if row.attempts == 2}
    assert "/hook/hold" in taken_over
    assert resent <= taken_over  # no race between live replicas sent anything twice
    assert {row.attempts for row in rows} <= {1, 2}
    assert len(taken_over) <= 2  # the killed replica's sending slots (TRAYTIC_ALERTS_CONCURRENCY)
    texts = [log.read_text() for log in logs]
    assert all("alerts_started" in text for text in texts)
