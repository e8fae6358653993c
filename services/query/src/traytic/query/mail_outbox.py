"""Account mails over SMTP through the database (`mail_outbox`), so that none is lost.

`OutboxMailer` writes each mail, sealed (address, link and all: `traytic.db.keyring`), in the
request's own transaction, and wakes this replica's sender once it commits. `MailSender`, a
background task of every query replica, claims due mails with a lease, sends each over SMTP
(`traytic.core.smtp`, the alert reports' code), and marks it sent, dropping its content; a
failed try comes back after a doubling wait (`mail_attempts` tries, a 5xx refusal is final). It
paces itself with the outbox loop the alert deliveries use (`traytic.core.outbox`).

Delivery is at least once: a mail is claimed before it is sent and marked after, so a process
that dies between the server's acceptance and the mark leaves the claim to expire (after
twice `TRAYTIC_SMTP_TIMEOUT_S` plus 5 s) and the mail is sent again, with the same Message-ID, which
mail clients use to fold the two. A mail whose link expires before it could be sent is dropped
(`mail_expired`). Logs name mails by kind and id, never by address or link.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import msgspec
import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.outbox import claim_name, drain, replica_name, retry_delay
from traytic.core.periodic import every
from traytic.core.smtp import SmtpSendError, send_message
from traytic.db import Database
from traytic.db.keyring import MAIL_OUTBOX, Keyring, SecretUnreadable
from traytic.db.models import OutboxMail
from traytic.db.repositories import mail_outbox
from traytic.query.mail import (
    ConsoleMailer,
    Mail,
    invitation_mail,
    signup_existing_mail,
    signup_link_mail,
)
from traytic.query.settings import QuerySettings
from traytic.query.unit_of_work import after_commit

log = structlog.get_logger()

CONCURRENCY = 4
"""Mails sent at once per replica."""
PURGE_EVERY_S = 60.0


class SealedMail(msgspec.Struct, frozen=True):
    """What a row's `message` holds once opened: the mail as it will be sent."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(SealedMail)


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxMailer:
    """Writes mails into the request's transaction; `wake` tells this replica's sender."""

    def __init__(self, settings: QuerySettings, keyring: Keyring) -> None:
        self.settings = settings
        self.keyring = keyring
        self.wake = asyncio.Event()
        self._domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "traytic.local"

    async def send_invitation(
        self,
        session: AsyncSession,
        *,
        invitation_id: uuid.UUID,
        email: str,
        organisation: str,
        link: str,
    ) -> None:
        lifetime = self.settings.invitation_lifetime_s
        mail = invitation_mail(organisation=organisation, link=link, lifetime_s=lifetime)
        await self._queue(session, email, mail, lifetime)

    async def send_signup_link(self, session: AsyncSession, *, email: str, link: str) -> None:
        lifetime = self.settings.signup_link_lifetime_s
        await self._queue(session, email, signup_link_mail(link=link), lifetime)

    async def send_signup_existing(
        self, session: AsyncSession, *, email: str, login_link: str
    ) -> None:
        # No secret in it, but a note about a sign-up is stale after as long as a link.
        lifetime = self.settings.signup_link_lifetime_s
        await self._queue(session, email, signup_existing_mail(login_link=login_link), lifetime)

    async def _queue(self, session: AsyncSession, to: str, mail: Mail, lifetime_s: int) -> None:
        now = _now()
        row = OutboxMail(kind=mail.kind, expires_at=now + timedelta(seconds=lifetime_s))
        content = SealedMail(
            to=to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            message_id=make_msgid(domain=self._domain),
        )
        plain = _ENCODER.encode(content).decode()
        row.message = self.keyring.seal(MAIL_OUTBOX, plain, context=str(row.id))
        await mail_outbox.add_mail(session, row)
        after_commit(session, self._wake)

    async def _wake(self) -> None:
        self.wake.set()


@dataclass(frozen=True, slots=True)
class ClaimedMail:
    id: uuid.UUID
    kind: str
    message: str
    attempts: int
    owner: str


class MailSender:
    """Claims, sends and marks the mails of the outbox, on every replica (leases share them)."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: QuerySettings,
        wake: asyncio.Event,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.settings = settings
        self.wake = wake
        self.clock = clock
        self.replica = replica_name()
        # Longer than a send can take, so a slow send is not taken over and sent twice.
        self.lease = timedelta(seconds=2 * settings.smtp_timeout_s + 5)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    async def run(self, stop: asyncio.Event, *, stop_timeout_s: float) -> None:
        """Until `stop`; then sends in flight get `stop_timeout_s`, and one cut off is sent
        again after its lease by whichever replica claims it."""
        await asyncio.gather(
            drain(
                self.claim,
                self.deliver,
                concurrency=CONCURRENCY,
                tick_s=self.settings.mail_tick_s,
                wake=self.wake,
                stop=stop,
                stop_timeout_s=stop_timeout_s,
                name="mail",
            ),
            every(PURGE_EVERY_S, stop, self.purge, failure="mail_purge_failed"),
        )

    async def claim(self, limit: int) -> list[ClaimedMail]:
        owner = claim_name(self.replica)
        async with self.db.session() as session:
            rows = await mail_outbox.claim_mails(
                session, owner=owner, now=self.now(), lease=self.lease, limit=limit
            )
            return [ClaimedMail(r.id, r.kind, r.message, r.attempts, owner) for r in rows]

    async def deliver(self, claimed: ClaimedMail) -> str:
        """Send one claimed mail and record the outcome; the status it ends in."""
        try:
            plain = self.keyring.open(MAIL_OUTBOX, claimed.message, context=str(claimed.id))
            content = _DECODER.decode(plain)
        except (SecretUnreadable, msgspec.DecodeError) as exc:
            # Sealed with a key this server does not have: no try can help.
            return await self._failed(claimed, f"unreadable: {exc}", permanent=True)
        try:
            await send_message(self.settings, self._message(content))
        except SmtpSendError as exc:
            # The error names the SMTP code or the connection failure, never the content.
            return await self._failed(claimed, exc.message, permanent=exc.permanent)
        except Exception as exc:
            # Its text may quote the message: only its type is kept.
            return await self._failed(claimed, f"internal error ({type(exc).__name__})")
        async with self.db.session() as session:
            recorded = await mail_outbox.mark_mail_sent(
                session, claimed.id, claimed.owner, self.now()
            )
        if not recorded:
            log.warning("mail_sent_after_takeover", kind=claimed.kind, mail_id=str(claimed.id))
        log.info("mail_sent", kind=claimed.kind, mail_id=str(claimed.id), attempt=claimed.attempts)
        return "sent"

    def _message(self, content: SealedMail) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = content.subject
        message["From"] = self.settings.mail_from
        message["To"] = content.to
        message["Date"] = format_datetime(self.now())
        # The same on every try: a mail sent again after a crash is recognisably the same.
        message["Message-ID"] = content.message_id
        # Out-of-office replies and the like are not sent back to an automatic mail.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(content.text)
        message.add_alternative(content.html, subtype="html")
        return message

    async def _failed(self, claimed: ClaimedMail, error: str, *, permanent: bool = False) -> str:
        final = permanent or claimed.attempts >= max(1, self.settings.mail_attempts)
        retry_at = None
        if not final:
            wait = retry_delay(
                claimed.attempts,
                base_s=self.settings.mail_retry_base_s,
                max_s=self.settings.mail_retry_max_s,
            )
            retry_at = self.now() + timedelta(seconds=wait)
        async with self.db.session() as session:
            await mail_outbox.mark_mail_failed_attempt(
                session, claimed.id, claimed.owner, error=error, retry_at=retry_at
            )
        log.warning(
            "mail_failed" if final else "mail_send_failed",
            kind=claimed.kind,
            mail_id=str(claimed.id),
            attempt=claimed.attempts,
            error=error,
            permanent=permanent,
        )
        return "failed" if final else "pending"

    async def purge(self) -> None:
        async with self.db.session() as session:
            expired, finished = await mail_outbox.purge_mails(session, self.now())
        for kind in expired:
            log.warning("mail_expired", kind=kind)
        if finished:
            log.info("mails_purged", count=finished)


def mailer_for(settings: QuerySettings, keyring: Keyring) -> ConsoleMailer | OutboxMailer:
    """SMTP through the outbox when a server is configured, stdout otherwise."""
    return OutboxMailer(settings, keyring) if settings.email_enabled else ConsoleMailer()
