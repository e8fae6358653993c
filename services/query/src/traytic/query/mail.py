"""The mails Traytic sends people: invitation links and sign-up mails.

A handler hands its mail to the `Mailer` inside its transaction. Without `TRAYTIC_SMTP_HOST`,
`ConsoleMailer` prints it to stdout once the transaction has committed, for the operator (dev
and small installs). With it, `OutboxMailer` (`traytic.query.mail_outbox`) writes it into the
database in that same transaction, and a background task sends it over SMTP: a request never
waits for the SMTP server, and a mail outlives the process. A link holds a secret, so it never
goes into a log line: mails are logged by kind only.
"""

from __future__ import annotations

import html
import sys
import uuid
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.query.unit_of_work import after_commit

log = structlog.get_logger()


class Mailer(Protocol):
    """What the handlers call inside their transaction: the mail goes out only if it commits,
    and none of these waits for a mail server."""

    async def send_invitation(
        self,
        session: AsyncSession,
        *,
        invitation_id: uuid.UUID,
        email: str,
        organisation: str,
        link: str,
    ) -> None: ...

    async def send_signup_link(self, session: AsyncSession, *, email: str, link: str) -> None: ...

    async def send_signup_existing(
        self, session: AsyncSession, *, email: str, login_link: str
    ) -> None: ...


def _print(line: str) -> None:
    # stdout is this mode's delivery channel: the operator passes the link on.
    print(f"[traytic] {line}", file=sys.stdout, flush=True)


class ConsoleMailer:
    """Prints each mail once its transaction has committed."""

    async def send_invitation(
        self,
        session: AsyncSession,
        *,
        invitation_id: uuid.UUID,
        email: str,
        organisation: str,
        link: str,
    ) -> None:
        async def deliver() -> None:
            _print(f"invitation to join {organisation!r} for {email}: {link}")
            log.info("invitation_delivered", invitation_id=str(invitation_id), mode="console")

        after_commit(session, deliver)

    async def send_signup_link(self, session: AsyncSession, *, email: str, link: str) -> None:
        """To a new address: the link that makes the account."""

        async def deliver() -> None:
            _print(f"sign-up for {email}: confirm with {link}")
            log.info("signup_link_delivered", mode="console")

        after_commit(session, deliver)

    async def send_signup_existing(
        self, session: AsyncSession, *, email: str, login_link: str
    ) -> None:
        """To an address that has an account: someone (perhaps its owner, who forgot) tried to
        sign up with it; nothing was changed, and this is where to sign in instead."""

        async def deliver() -> None:
            _print(
                f"sign-up attempt for {email}, which already has an account: nothing was"
                f" changed; sign in at {login_link}"
            )
            log.info("signup_existing_delivered", mode="console")

        after_commit(session, deliver)


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
