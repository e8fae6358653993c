"""Email reports and alerts: a plain-text part and an HTML part with the chart inline,
unsubscribe headers, sent over SMTP by `traytic.core.smtp` (shared with the query service).

The Message-ID is derived from the delivery's idempotency key, so a message sent again after a
crash (between the server's acceptance and our record of it) is recognisably the same one.
`List-Unsubscribe` with `List-Unsubscribe-Post` lets mail clients unsubscribe in one click
(RFC 8058). A refusal with a 5xx code (no such mailbox, message rejected) is permanent;
anything else (4xx, no connection, a timeout) is tried again.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import msgspec

from traytic.alerts.channels import SendError
from traytic.alerts.settings import AlertsSettings
from traytic.core.smtp import SmtpSendError, send_message

_BODY = msgspec.json.Decoder(dict[str, Any])


def build_message(
    settings: AlertsSettings, *, to: str, subject: str, body: str, key: str, sent_at: datetime
) -> EmailMessage:
    parts = _BODY.decode(body)
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "traytic.local"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{sender_domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Traytic-Idempotency-Key"] = key
    if parts.get("unsubscribe"):
        message["List-Unsubscribe"] = f"<{parts['unsubscribe']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(parts["text"])
    message.add_alternative(parts["html"], subtype="html")
    if parts.get("chart"):
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(
            base64.b64decode(parts["chart"]),
            maintype="image",
            subtype="png",
            cid="<chart>",
            filename="chart.png",
        )
    return message


async def send_email(settings: AlertsSettings, message: EmailMessage) -> None:
    try:
        await send_message(settings, message)
    except SmtpSendError as exc:
        raise SendError(exc.message, permanent=exc.permanent) from exc
