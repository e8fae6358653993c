"""Real receivers for the alert tests: an SMTP server (aiosmtpd) that requires STARTTLS with a
certificate from a test CA (trustme), and one HTTP server standing in for Slack's incoming
webhooks and for webhook receivers, following their contracts: Slack answers `200 ok` or its
documented errors; a webhook receiver verifies the signature and answers 2xx.

Both record what arrived. Behaviour is chosen by address: mail to `bounce-...@` is refused with
550; `/slack/broken` answers 500; `/hook/slow` answers after the sender's timeout; `/hook/hold`
keeps its first request open until the test releases it (to kill the sender mid-send).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.fixtures.clickhouse import free_port


@dataclass
class Mailbox:
    """What the SMTP server accepted: each message as parsed, with the TLS state it came in."""

    messages: list[EmailMessage] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold: threading.Event | None = None
    """When set by a test, DATA waits on it before answering (a sender killed mid-send)."""
    arrived: threading.Event = field(default_factory=threading.Event)

    def by_recipient(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"{len(self.messages)} of {count} messages arrived")


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, _: list[str]
    ) -> str:
        if address.startswith("bounce-"):
            with self.mailbox.lock:
                self.mailbox.refused.append(address)
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.mailbox.lock:
            self.mailbox.messages.append(message)
            self.mailbox.tls.append(session.ssl is not None)
        self.mailbox.arrived.set()
        if self.mailbox.hold is not None:
            while not self.mailbox.hold.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    ca_file: str
    mailbox: Mailbox


@contextmanager
def smtp_server(tmp: Path) -> Iterator[SmtpServer]:
    """An SMTP server on a free port that refuses mail until the client has said STARTTLS."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_file = tmp / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(tls)
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        _Handler(mailbox),
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        server_hostname="localhost",
    )
    controller.start()
    try:
        yield SmtpServer("localhost", port, str(ca_file), mailbox)
    finally:
        controller.stop()


@dataclass(frozen=True)
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Slack's incoming webhooks and webhook receivers, at `/slack/...` and `/hook/...`."""

    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)
    held_from: int = 0
    """The client port of the request held at `/hook/hold`: which sender's connection it is."""
    slow_s: float = 3.0

    def at(self, path: str) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 30.0) -> list[Arrival]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.at(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{len(self.at(path))} of {count} requests reached {path}")

    def answer(
        self, path: str, body: bytes, headers: dict[str, str], peer_port: int = 0
    ) -> tuple[int, bytes]:
        with self.lock:
            self.attempts[path] = self.attempts.get(path, 0) + 1
            first = self.attempts[path] == 1
        if path.startswith("/slack/broken") or path.startswith("/hook/broken"):
            return 500, b"internal_error"
        if path.startswith("/slack/gone"):
            return 404, b"no_service"
        if path.startswith("/hook/slow"):
            time.sleep(self.slow_s)
        if path.startswith("/hook/hold") and first:
            # Read whole, held unanswered: the sender is killed before it hears back.
            self.held_from = peer_port
            self.holding.set()
            self.release.wait(timeout=60)
        with self.lock:
            self.arrivals.append(Arrival(path, headers, body))
        if path.startswith("/slack/"):
            return 200, b"ok"
        return 204, b""


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = state.answer(self.path, body, headers, self.client_address[1])
            try:
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the sender gave up (timeout) or died

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
