"""Random tokens handed to people (session cookies, invitation links) and their stored hashes;
the signed tokens of unsubscribe links.

Only `hash_token(token)` reaches the database: a leaked table holds nothing that logs anyone in.
sha256 suffices because the tokens carry 256 random bits; there is nothing to guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

from traytic.db.models import Recipient


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unsubscribe_token(recipient: Recipient) -> str:
    """The token in a recipient's unsubscribe links: the recipient's id and an HMAC of its
    owner (the report or alert) and address under the recipient's own secret. It works without
    signing in, for this recipient of this report only, and stops working if the address is
    changed."""
    return f"{recipient.id.hex}.{_unsubscribe_signature(recipient)}"


def unsubscribe_recipient_id(token: str) -> uuid.UUID | None:
    """The recipient a token names (not yet verified: see `unsubscribe_token_valid`)."""
    recipient_id, _, signature = token.partition(".")
    if not signature or len(token) > 200:
        return None
    try:
        return uuid.UUID(hex=recipient_id)
    except ValueError:
        return None


def unsubscribe_token_valid(token: str, recipient: Recipient) -> bool:
    return hmac.compare_digest(token.encode(), unsubscribe_token(recipient).encode())


def _unsubscribe_signature(recipient: Recipient) -> str:
    owner = (
        f"report:{recipient.report_id}" if recipient.report_id else f"alert:{recipient.alert_id}"
    )
    message = f"unsubscribe|{recipient.id}|{owner}|{recipient.target}".encode()
    digest = hmac.new(recipient.secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
