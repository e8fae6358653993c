"""Email over SMTP with aiosmtplib: STARTTLS (required, not opportunistic) or TLS from the
start, a plain-text part and an HTML part with the chart inline, unsubscribe headers.

The Message-ID is derived from the delivery's idempotency key, so a message sent again after a
crash (between the server's acceptance and our record of it) is recognisably the same one.
`List-Unsubscribe` with `List-Unsubscribe-Post` lets mail clients unsubscribe in one click
(RFC 8058). A refusal with a 5xx code (no such mailbox, message rejected) is permanent;
anything else (4xx, no connection, a timeout) is tried again.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import aiosmtplib
import msgspec

from traytic.alerts.channels import SendError
from traytic.alerts.settings import AlertsSettings

_BODY = msgspec.json.Decoder(dict[str, Any])


def _tls_context(settings: AlertsSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


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
    if not settings.email_enabled:
        raise SendError("email is off on this server: TRAYTIC_SMTP_HOST is not set", permanent=True)
    security = settings.smtp_security
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            tls_context=_tls_context(settings) if security != "none" else None,
            timeout=settings.smtp_timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        raise SendError(
            f"the server refused the address ({', '.join(map(str, codes))})",
            permanent=all(code >= 500 for code in codes),
        ) from exc
    except aiosmtplib.SMTPDataError as exc:
        raise SendError(
            f"the server refused the message ({exc.code} {exc.message[:200]})",
            permanent=exc.code >= 500,
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendError(f"SMTP {exc.code}: {exc.message[:200]}") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SendError(f"could not reach the SMTP server ({type(exc).__name__})") from exc
