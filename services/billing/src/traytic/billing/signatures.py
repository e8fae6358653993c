"""Webhook signatures, checked before anything else is done with a body. Every compare is
constant-time.

- Paystack: `x-paystack-signature` is the hex HMAC-SHA512 of the raw body, keyed with the
  secret key.
- Polar: Standard Webhooks. `webhook-signature` holds space-separated `v1,<base64>` entries,
  each an HMAC-SHA256 of `"{webhook-id}.{webhook-timestamp}.{body}"`; the timestamp must be
  within five minutes of now. Polar's secret may carry a `whsec_` prefix over base64; like
  polar-sdk's own `polar.webhooks`, both the secret's bytes and its base64 decoding are
  accepted as the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
from collections.abc import Mapping

TOLERANCE_S = 5 * 60


def paystack_signature(body: bytes, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


def verify_paystack(body: bytes, signature: str | None, secret_key: str) -> bool:
    if not secret_key or not signature:
        return False
    expected = paystack_signature(body, secret_key)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def polar_signing_keys(secret: str) -> tuple[bytes, ...]:
    keys = [secret.encode()]
    remainder = secret.removeprefix("whsec_")
    try:
        decoded = base64.b64decode(remainder + "=" * (-len(remainder) % 4), validate=True)
    except (binascii.Error, ValueError):
        return tuple(keys)
    if decoded and decoded != keys[0]:
        keys.append(decoded)
    return tuple(keys)


def standard_webhook_signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify_polar(body: bytes, headers: Mapping[str, str], secret: str, *, now: float) -> str | None:
    """The `webhook-id` of a genuine, fresh delivery; None for anything else."""
    webhook_id = headers.get("webhook-id")
    raw_timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not secret or not webhook_id or not raw_timestamp or not signatures:
        return None
    try:
        timestamp = float(raw_timestamp)
    except ValueError:
        return None
    if not math.isfinite(timestamp) or abs(now - timestamp) > TOLERANCE_S:
        return None
    sent = []
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        try:
            sent.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    signed = f"{webhook_id}.{math.floor(timestamp)}.".encode() + body
    matched = False
    for key in polar_signing_keys(secret):
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for candidate in sent:
            # No early exit: the time taken does not tell which entry matched.
            matched |= hmac.compare_digest(expected, candidate)
    return webhook_id if matched else None
