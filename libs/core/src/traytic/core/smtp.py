"""Sending mail over SMTP with aiosmtplib, the one place Traytic speaks SMTP: the alert reports
(traytic.alerts) and the query service's account mails (sign-up, invitations) both use it.

`SmtpSettings` holds the `TRAYTIC_SMTP_*` and `TRAYTIC_MAIL_FROM` variables; a service's
settings inherit it, so both read the same variables. Security is STARTTLS (required, not
opportunistic), TLS from the start, or none (a relay on the same host). A refusal with a 5xx
code (no such mailbox, message rejected) is permanent; anything else (4xx, no connection, a
timeout) may work when tried again: `SmtpSendError.permanent` says which.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from typing import Literal

import aiosmtplib
import msgspec

from traytic.core.errors import ConfigurationError

SmtpSecurity = Literal["starttls", "tls", "none"]
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True):
    smtp_host: str = ""
    """The SMTP server for email; empty turns email off."""
    smtp_port: int = 0
    """0: 587 with STARTTLS, 465 with TLS, 25 without."""
    smtp_security: SmtpSecurity = "starttls"
    """`starttls` (upgrade a plain connection, required), `tls` (TLS from the first byte), or
    `none` (plain text: only for a relay on the same host or network)."""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_s: float = 30.0
    smtp_ca_file: str = ""
    """A PEM file of CAs to trust for the SMTP server's certificate (a private CA); the system's
    store otherwise."""
    mail_from: str = ""
    """The sender, e.g. `Traytic <reports@example.com>`; needed with `smtp_host`."""

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def smtp_server_port(self) -> int:
        """Not `port`: a service's settings that inherit these have their own `port`."""
        return self.smtp_port or DEFAULT_PORTS[self.smtp_security]

    def check_smtp(self) -> None:
        """Refuse, at start-up, a server without a sender (every message would be refused)."""
        if self.smtp_host and not self.mail_from:
            raise ConfigurationError("TRAYTIC_MAIL_FROM is needed with TRAYTIC_SMTP_HOST")


class SmtpSendError(Exception):
    """The message was not accepted; `permanent` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


async def send_message(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand `message` to the SMTP server; returns once the server accepted it. Error messages
    name the SMTP code and never the message's content (it may hold a secret link)."""
    if not settings.email_enabled:
        raise SmtpSendError(
            "email is off on this server: TRAYTIC_SMTP_HOST is not set", permanent=True
        )
    security = settings.smtp_security
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_server_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            tls_context=_tls_context(settings) if security != "none" else None,
            timeout=settings.smtp_timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        raise SmtpSendError(
            f"the server refused the address ({', '.join(map(str, codes))})",
            permanent=all(code >= 500 for code in codes),
        ) from exc
    except aiosmtplib.SMTPDataError as exc:
        raise SmtpSendError(
            f"the server refused the message ({exc.code} {exc.message[:200]})",
            permanent=exc.code >= 500,
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SmtpSendError(f"SMTP {exc.code}: {exc.message[:200]}") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SmtpSendError(f"could not reach the SMTP server ({type(exc).__name__})") from exc
