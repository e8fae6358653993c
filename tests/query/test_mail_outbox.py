"""Account mails survive the query service: queued in the database (`mail_outbox`), sealed, and
sent by whichever process runs next. A mail queued while the SMTP server is down is still sent
after a shutdown and a start; one whose process is killed (SIGKILL, a real `traytic-query`)
while it talks to the SMTP server is sent by the next process once the dead one's claim ends.
The real SMTP server is aiosmtpd requiring STARTTLS (tests/alerts/receivers.py), and each link
is followed through the API."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlmodel import select as select_rows

from tests.alerts.receivers import smtp_server
from tests.fixtures.clickhouse import free_port
from tests.query.conftest import PASSWORD, fast_settings
from tests.query.test_mail_smtp import SENDER, mail_to, only_link
from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats
from traytic.db import Database, DbSettings, create_engine
from traytic.db.models import OutboxMail
from traytic.query.app import create_app

BIN = Path(sys.executable).parent


async def outbox(db_settings: DbSettings) -> list[OutboxMail]:
    database = Database(create_engine(db_settings))
    try:
        async with database.session() as session:
            return list((await session.exec(select_rows(OutboxMail))).all())
    finally:
        await database.dispose()


async def outbox_dump(db_settings: DbSettings) -> str:
    """The outbox table as a dump or a backup holds it."""
    database = Database(create_engine(db_settings))
    try:
        async with database.engine.connect() as connection:
            rows = await connection.execute(sa.text("SELECT * FROM mail_outbox"))
            return "\n".join(repr(tuple(row)) for row in rows)
    finally:
        await database.dispose()


async def confirmed(client: httpx.AsyncClient, link: str) -> None:
    token = link.rsplit("#token=", 1)[1]
    answer = await client.post("/api/auth/signup/confirm", json={"token": token})
    assert answer.status_code == 201, answer.text


async def test_a_mail_queued_while_smtp_is_down_is_sent_after_a_restart(
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    clean_database: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = fast_settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # nothing listens: the SMTP server is down
        smtp_security="none",
        mail_from=SENDER,
        mail_retry_base_s=0.5,
        mail_tick_s=0.1,
    )
    async with AsyncTestClient(create_app(down, db_settings, bus_settings)) as client:
        answer = await client.post(
            "/api/auth/signup", json={"email": "durable@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 10
        while '"mail_send_failed"' not in capsys.readouterr().err:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    # The service stopped with its mail unsent: the mail waits in the database, sealed.
    (waiting,) = await outbox(db_settings)
    assert waiting.sent_at is None and waiting.message.startswith("sk1.")
    dumped = await outbox_dump(db_settings)

    with smtp_server(tmp_path) as smtp:
        up = fast_settings(
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_ca_file=smtp.ca_file,
            smtp_timeout_s=5.0,
            mail_from=SENDER,
            mail_tick_s=0.1,
        )
        async with AsyncTestClient(create_app(up, db_settings, bus_settings)) as client:
            mail = await mail_to(smtp, "durable@example.com")
            link = only_link(mail)
            await confirmed(client, link)
        assert len(smtp.mailbox.by_recipient("durable@example.com")) == 1
    # Neither the link's token nor the address was readable in the outbox; once sent, the mail
    # keeps no content at all.
    assert link.rsplit("#token=", 1)[1] not in dumped and "durable@example.com" not in dumped
    (sent,) = await outbox(db_settings)
    assert sent.sent_at is not None and sent.message == "" and sent.attempts >= 2


# ---- a real process, killed


@pytest.fixture
def silent_listener() -> Iterator[socket.socket]:
    """An SMTP server that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener


@pytest.fixture
async def processes() -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # a failed test must not leave a service behind
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def query_env(
    db_settings: DbSettings, nats: EmbeddedNats, namespace: str, tmp: Path, port: int, **smtp: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAYTIC_")}
    return env | {
        "TRAYTIC_PORT": str(port),
        "TRAYTIC_METRICS_PORT": "0",
        "TRAYTIC_LOG_FORMAT": "json",
        "TRAYTIC_DATABASE_URL": db_settings.database_url,
        "TRAYTIC_SECRET_KEY": db_settings.secret_key,
        "TRAYTIC_MIGRATE_ON_START": "false",
        "TRAYTIC_NATS_URL": nats.url,
        "TRAYTIC_NAMESPACE": namespace,
        "TRAYTIC_CHDB_PATH": str(tmp / "chdb"),
        "TRAYTIC_ARGON2_TIME_COST": "1",
        "TRAYTIC_ARGON2_MEMORY_KIB": "8",
        "TRAYTIC_ARGON2_PARALLELISM": "1",
        "TRAYTIC_MAIL_FROM": SENDER,
        "TRAYTIC_MAIL_TICK_S": "0.2",
        "TRAYTIC_SMTP_TIMEOUT_S": "2",  # a dead sender's claim ends 2 x 2 + 5 s later
        **smtp,
    }


async def started(
    env: dict[str, str], log: Path, processes: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(BIN / "traytic-query")],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the server and its worker, killed together
        )
    processes.append(process)
    url = f"http://127.0.0.1:{env['TRAYTIC_PORT']}/readyz"
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if (await http.get(url)).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.2)


async def test_a_process_killed_while_sending_leaves_the_mail_to_the_next_one(
    db_settings: DbSettings,
    nats_server: EmbeddedNats,
    namespace: str,
    clean_database: None,
    tmp_path: Path,
    silent_listener: socket.socket,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    log = tmp_path / "query.log"
    port = free_port()
    hanging = query_env(
        db_settings,
        nats_server,
        namespace,
        tmp_path,
        port,
        TRAYTIC_SMTP_HOST="127.0.0.1",
        TRAYTIC_SMTP_PORT=str(silent_listener.getsockname()[1]),
        TRAYTIC_SMTP_SECURITY="none",
    )
    first = await started(hanging, log, processes)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        answer = await http.post(
            "/api/auth/signup", json={"email": "killed@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 202, answer.text
    # The sender has claimed the mail and connected: kill it while it waits for the server.
    readable, _, _ = await asyncio.to_thread(select.select, [silent_listener], [], [], 10)
    assert readable, log.read_text()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    (claimed,) = await outbox(db_settings)
    assert claimed.status == "sending" and claimed.attempts == 1 and claimed.sent_at is None

    with smtp_server(tmp_path) as smtp:
        working = hanging | {
            "TRAYTIC_SMTP_HOST": smtp.host,
            "TRAYTIC_SMTP_PORT": str(smtp.port),
            "TRAYTIC_SMTP_SECURITY": "starttls",
            "TRAYTIC_SMTP_CA_FILE": smtp.ca_file,
        }
        second = await started(working, log, processes)
        # Sent once the dead process's claim has ended (its lease: 9 s from the claim).
        mail = await mail_to(smtp, "killed@example.com", within_s=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            await confirmed(http, only_link(mail))
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, log.read_text()
    assert len(smtp.mailbox.by_recipient("killed@example.com")) == 1
    (sent,) = await outbox(db_settings)
    assert sent.status == "sent" and sent.attempts == 2 and sent.message == ""
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert [e["attempt"] for e in events if e["event"] == "mail_sent"] == [2]
    assert "killed@example.com" not in log.read_text() and "#token=" not in log.read_text()
