"""Delivery of the mails Traytic sends: invitation links and sign-up mails.

Without `TRAYTIC_SMTP_HOST`, `ConsoleMailer` prints them to stdout for the operator (dev and
small installs). With it, `SmtpMailer` queues them and one background task owned by the query
lifespan sends them over SMTP (`traytic.core.smtp`, the alert reports' code): a request never
waits for the SMTP server, so a sign-up answers in the same time whether the address has an
account or not, and a slow or unreachable server slows nobody. A link holds a secret, so it
never goes into a log line: failures are logged by mail kind and attempt only.
"""

from __future__ import annotations

import asyncio
import html
import sys
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol, TypeVar

import structlog

from traytic.core.smtp import SmtpSendError, send_message
from traytic.query.settings import QuerySettings

log = structlog.get_logger()

T = TypeVar("T")


class Mailer(Protocol):
    """What the handlers call once their transaction committed; it must not block."""

    def send_invitation(
        self, *, invitation_id: uuid.UUID, email: str, organisation: str, link: str
    ) -> None: ...

    def send_signup_link(self, *, email: str, link: str) -> None: ...

    def send_signup_existing(self, *, email: str, login_link: str) -> None: ...


class ConsoleMailer:
    def send_invitation(
        self, *, invitation_id: uuid.UUID, email: str, organisation: str, link: str
    ) -> None:
        # stdout is this mode's delivery channel: the operator passes the link on.
        print(
            f"[traytic] invitation to join {organisation!r} for {email}: {link}",
            file=sys.stdout,
            flush=True,
        )
        log.info("invitation_delivered", invitation_id=str(invitation_id), mode="console")

    def send_signup_link(self, *, email: str, link: str) -> None:
        """To a new address: the link that makes the account."""
        print(
            f"[traytic] sign-up for {email}: confirm with {link}",
            file=sys.stdout,
            flush=True,
        )
        log.info("signup_link_delivered", mode="console")

    def send_signup_existing(self, *, email: str, login_link: str) -> None:
        """To an address that has an account: someone (perhaps its owner, who forgot) tried to
        sign up with it; nothing was changed, and this is where to sign in instead."""
        print(
            f"[traytic] sign-up attempt for {email}, which already has an account: nothing was"
            f" changed; sign in at {login_link}",
            file=sys.stdout,
            flush=True,
        )
        log.info("signup_existing_delivered", mode="console")


@dataclass(frozen=True, slots=True)
class Mail:
    """One message as written (pure: no I/O), before it is addressed and queued."""

    kind: str
    """`invitation`, `signup_link` or `signup_existing`: what the logs name a mail by."""
    subject: str
    text: str
    html: str


def _written(kind: str, *, subject: str, lead: list[str], link: str, tail: str, label: str) -> Mail:
    """Both parts from the same paragraphs: in the text the link stands after `lead`, in the HTML
    a button labelled `label` ends the body."""
    text = "\n\n".join([*lead, link, tail]) + "\n"
    body = "".join(f"<p>{html.escape(p)}</p>" for p in [*lead, tail])
    button = f'<p><a href="{html.escape(link, quote=True)}">{html.escape(label)}</a></p>'
    page = f"<!doctype html><html><body>{body}{button}</body></html>"
    return Mail(kind=kind, subject=subject, text=text, html=page)


def invitation_mail(*, organisation: str, link: str, lifetime_s: int) -> Mail:
    days = max(1, lifetime_s // 86400)
    return _written(
        "invitation",
        subject=f"You are invited to join {organisation} on Traytic",
        lead=[
            f"You are invited to join {organisation} on Traytic.",
            f"Open the link below to accept; it works for {days} day{'s' if days > 1 else ''}.",
        ],
        link=link,
        tail="If you did not expect this, ignore this mail.",
        label="Accept the invitation",
    )


def signup_link_mail(*, link: str) -> Mail:
    return _written(
        "signup_link",
        subject="Confirm your Traytic account",
        lead=[
            "Someone (we hope you) asked for a Traytic account with this address.",
            "Open the link below to confirm it and sign in.",
        ],
        link=link,
        tail="If it was not you, ignore this mail: no account is made without the link.",
        label="Confirm my account",
    )


def signup_existing_mail(*, login_link: str) -> Mail:
    return _written(
        "signup_existing",
        subject="Someone tried to sign up with your address",
        lead=[
            "Someone tried to sign up for Traytic with this address, which already has an account.",
            "Nothing was changed. If it was you, sign in instead:",
        ],
        link=login_link,
        tail="If it was not you, you can ignore this mail.",
        label="Sign in",
    )


@dataclass(frozen=True, slots=True)
class _Queued:
    kind: str
    message: EmailMessage


class SmtpMailer:
    """Queues each mail (bounded: `mail_queue_size`) for `run()`, which sends them one at a
    time and tries a failed one again `mail_attempts` times with a doubling wait."""

    def __init__(self, settings: QuerySettings) -> None:
        self.settings = settings
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue(maxsize=settings.mail_queue_size)
        sender = parseaddr(settings.mail_from)[1]
        self._domain = sender.rpartition("@")[2] or "traytic.local"

    def send_invitation(
        self, *, invitation_id: uuid.UUID, email: str, organisation: str, link: str
    ) -> None:
        lifetime = self.settings.invitation_lifetime_s
        mail = invitation_mail(organisation=organisation, link=link, lifetime_s=lifetime)
        self._enqueue(email, mail)

    def send_signup_link(self, *, email: str, link: str) -> None:
        self._enqueue(email, signup_link_mail(link=link))

    def send_signup_existing(self, *, email: str, login_link: str) -> None:
        self._enqueue(email, signup_existing_mail(login_link=login_link))

    def _enqueue(self, to: str, mail: Mail) -> None:
        message = EmailMessage()
        message["Subject"] = mail.subject
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._domain)
        # Out-of-office replies and the like are not sent back to an automatic mail.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        try:
            self._queue.put_nowait(_Queued(mail.kind, message))
        except asyncio.QueueFull:
            # The SMTP server has been failing for a while: the person asks again later.
            log.warning("mail_dropped", kind=mail.kind, queued=self._queue.qsize())

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set and the queue is empty. Once stopping, each mail left gets
        one try (the lifespan's grace bounds how long that may take)."""
        while True:
            if stop.is_set():
                try:
                    queued: _Queued | None = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
            else:
                queued = await _until_stopped(self._queue.get(), stop)
            if queued is not None:
                await self._deliver(queued, stop)

    async def _deliver(self, queued: _Queued, stop: asyncio.Event) -> None:
        attempts = max(1, self.settings.mail_attempts)
        for attempt in range(1, attempts + 1):
            try:
                await send_message(self.settings, queued.message)
            except SmtpSendError as exc:
                final = exc.permanent or attempt == attempts or stop.is_set()
                # The error names the SMTP code or the connection failure, never the content.
                log.warning(
                    "mail_failed" if final else "mail_send_failed",
                    kind=queued.kind,
                    attempt=attempt,
                    error=exc.message,
                    permanent=exc.permanent,
                )
                if final:
                    return
                delay = self.settings.mail_retry_base_s * 2 ** (attempt - 1)
                await _until_stopped(asyncio.sleep(delay), stop)
            except Exception as exc:
                # A bug or an unusable message, not the server: this mail is given up, and the
                # task goes on with the next (its error's text may quote the message: not logged).
                log.error(
                    "mail_failed", kind=queued.kind, attempt=attempt, error=type(exc).__name__
                )
                return
            else:
                log.info("mail_sent", kind=queued.kind, attempt=attempt)
                return


async def _until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None as soon as `stop` is set (work is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        return None
    finally:
        for pending in (task, stopped):
            if not pending.done():
                pending.cancel()
        await asyncio.gather(task, stopped, return_exceptions=True)


def mailer_for(settings: QuerySettings) -> ConsoleMailer | SmtpMailer:
    """SMTP when a server is configured, stdout otherwise."""
    return SmtpMailer(settings) if settings.email_enabled else ConsoleMailer()
