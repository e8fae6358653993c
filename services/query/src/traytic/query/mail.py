"""Delivery of invitation links. `console` mode prints the link to stdout for the operator
(dev and small installs); the link holds a secret, so it never goes into a structured log."""

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
