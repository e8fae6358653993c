"""Delivery of the mails Traytic sends: invitation links and sign-up mails. `console` mode
prints them to stdout for the operator (dev and small installs); a link holds a secret, so it
never goes into a structured log."""

from __future__ import annotations

import sys
import uuid

import structlog

log = structlog.get_logger()


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
