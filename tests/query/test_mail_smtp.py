"""Account mails over SMTP: with `TRAYTIC_SMTP_HOST` set, sign-up and invitation mails reach a
real SMTP server (aiosmtpd requiring STARTTLS, tests/alerts/receivers.py) as plain text and
HTML, and their links work through the API. A server that never answers slows no request, no
log line carries a link's secret, and shutdown drops no mail."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlmodel import select

from tests.alerts.receivers import SmtpServer, smtp_server
from tests.query.conftest import PASSWORD, Account, Api, fast_settings
from traytic.core import bus
from traytic.db import Database, DbSettings, create_engine
from traytic.db.models import OutboxMail
from traytic.query.app import create_app
from traytic.query.settings import QuerySettings

SENDER = "Traytic <accounts@traytic.test>"
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def query_settings(smtp: SmtpServer) -> QuerySettings:
    return fast_settings(
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="starttls",
        smtp_ca_file=smtp.ca_file,
        smtp_timeout_s=5.0,
        mail_from=SENDER,
        mail_retry_base_s=0.05,
    )


async def mail_to(
    smtp: SmtpServer, address: str, count: int = 1, *, within_s: float = 10.0
) -> EmailMessage:
    """The `count`-th mail that reached `address` (waits for it off the event loop)."""
    deadline = time.monotonic() + within_s
    while len(smtp.mailbox.by_recipient(address)) < count:
        assert time.monotonic() < deadline, f"no mail {count} to {address}"
        await asyncio.sleep(0.02)
    return smtp.mailbox.by_recipient(address)[count - 1]


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def only_link(message: EmailMessage) -> str:
    """The one link of the mail, the same in its text and HTML parts."""
    text, html = parts(message)
    (link,) = LINK.findall(text)
    assert f'href="{link}"' in html
    return link


async def signed_up(api: Api, smtp: SmtpServer, email: str) -> Account:
    """The form, then the link the mail brought (through the API, as the web page does)."""
    api.client.cookies.clear()
    answer = await api.call("POST", "/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 202, answer.text
    mail = await mail_to(smtp, email, len(smtp.mailbox.by_recipient(email)) + 1)
    link = only_link(mail)
    assert link.startswith("http://localhost:3001/signup/confirm#token=")
    token = link.rsplit("#token=", 1)[1]
    confirmed = await api.call("POST", "/api/auth/signup/confirm", json={"token": token})
    assert confirmed.status_code == 201, confirmed.text
    return api.account_from(confirmed)


async def test_signup_mails_a_working_link_and_a_registered_address_a_warning(
    api: Api, smtp: SmtpServer
) -> None:
    account = await signed_up(api, smtp, "new@example.com")
    mail = smtp.mailbox.by_recipient("new@example.com")[0]
    assert mail["From"] == SENDER and mail["Subject"] == "Confirm your Traytic account"
    assert mail["Auto-Submitted"] == "auto-generated" and mail["Message-ID"]
    assert smtp.mailbox.tls == [True]  # STARTTLS, verified against the test CA
    me = await api.call("GET", "/api/auth/me", account)
    assert me.status_code == 200 and me.json()["user"]["email"] == "new@example.com"

    # The same address again: a note that someone tried and where to sign in, no link.
    api.client.cookies.clear()
    again = {"email": "NEW@example.com", "password": "another one!"}
    answer = await api.call("POST", "/api/auth/signup", json=again)
    assert answer.status_code == 202
    warning = await mail_to(smtp, "new@example.com", 2)
    assert warning["Subject"] == "Someone tried to sign up with your address"
    assert only_link(warning) == "http://localhost:3001/login"
    text, _ = parts(warning)
    assert "#token=" not in text and "Nothing was changed" in text
    login = await api.call(
        "POST", "/api/auth/login", json={"email": "new@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200  # the password did not change


async def test_an_invitation_mail_lets_the_invitee_join(api: Api, smtp: SmtpServer) -> None:
    owner = await signed_up(api, smtp, "owner@example.com")
    invitee = await signed_up(api, smtp, "invitee@example.com")
    invited = await api.call(
        "POST",
        f"/api/orgs/{owner.org_id}/invitations",
        owner,
        json={"email": "invitee@example.com", "role": "viewer"},
    )
    assert invited.status_code == 201, invited.text
    mail = await mail_to(smtp, "invitee@example.com", 2)
    assert mail["Subject"].startswith("You are invited to join")
    link = only_link(mail)
    assert link.startswith("http://localhost:3001/invite#token=")
    token = link.rsplit("#token=", 1)[1]
    joined = await api.call("POST", "/api/invitations/accept", invitee, json={"token": token})
    assert joined.status_code == 201, joined.text
    me = await api.call("GET", "/api/auth/me", invitee)
    assert owner.org_id in {org["id"] for org in me.json()["organisations"]}


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (an SMTP server that hangs)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


async def test_a_hanging_smtp_server_slows_no_request_and_logs_no_link(
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    clean_database: None,
    silent_server: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three sign-ups while the server hangs: each answers at once; each mail is tried and
    logged by kind, never with its link or address; shutdown waits for the sends in flight no
    longer than its grace, and drops none: the three mails stay in the outbox for the next
    start (test_mail_outbox.py follows them there)."""
    settings = fast_settings(
        smtp_host="127.0.0.1",
        smtp_port=silent_server,
        smtp_security="none",
        smtp_timeout_s=1.5,
        mail_from=SENDER,
        mail_retry_base_s=0.05,
        mail_tick_s=0.1,
    )
    app = create_app(settings, db_settings, bus_settings)
    printed = ""
    async with AsyncTestClient(app) as client:
        for n in range(3):
            started = time.monotonic()
            answer = await client.post(
                "/api/auth/signup", json={"email": f"slow{n}@example.com", "password": PASSWORD}
            )
            took = time.monotonic() - started
            assert answer.status_code == 202, answer.text
            # The SMTP timeout alone is 1.5 s: the answer does not wait for it.
            assert took < 1.0, took
        deadline = time.monotonic() + 10
        while printed.count('"mail_send_failed"') < 3:
            assert time.monotonic() < deadline, printed
            await asyncio.sleep(0.05)
            printed += capsys.readouterr().err
        stopping = time.monotonic()  # the second tries are hanging now
    # The grace is min(smtp_timeout_s, 10 s) (and a second for the loop itself).
    assert time.monotonic() - stopping < 1.5 + 1.0 + 1.0
    printed += capsys.readouterr().err
    logs = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    failures = [e for e in logs if e["event"] in ("mail_send_failed", "mail_failed")]
    # Eight tries each (the default): none was given up, whatever the grace cut short.
    assert {e["event"] for e in failures} == {"mail_send_failed"}
    assert len([e for e in failures if e["attempt"] == 1]) == 3
    assert all(e["kind"] == "signup_link" for e in failures)
    assert all("timeout" in e["error"].lower() or "reach" in e["error"] for e in failures)
    # The secret never reaches a log line, nor does the address.
    assert "#token=" not in printed and "@example.com" not in printed
    database = Database(create_engine(db_settings))
    try:
        async with database.session() as session:
            rows = (await session.exec(select(OutboxMail))).all()
    finally:
        await database.dispose()
    assert len(rows) == 3 and all(row.sent_at is None and row.message for row in rows)
