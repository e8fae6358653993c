"""The webhook receiver's work: verify, name the event, store it raw, once.

The body is stored byte for byte as signed; applying it is the worker's job, so a provider
gets its 200 as soon as the row is committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec
import structlog

from traytic.billing.errors import BillingNotConfigured, InvalidSignature
from traytic.billing.settings import BillingSettings
from traytic.billing.signatures import verify_paystack, verify_polar
from traytic.core.errors import InvalidInput
from traytic.db import Database
from traytic.db.models import Provider
from traytic.db.repositories import webhooks

log = structlog.get_logger()

MAX_BODY_BYTES = 1_000_000


class PaystackEnvelope(msgspec.Struct):
    event: str
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class PolarEnvelope(msgspec.Struct):
    type: str


def paystack_event_id(envelope: PaystackEnvelope, body: bytes) -> str:
    """Paystack sends no event id: derive one from what makes the event distinct."""
    data = envelope.data
    kind = envelope.event
    if kind.startswith("charge.") and data.get("id") is not None:
        return f"{kind}:{data['id']}"
    if kind.startswith("subscription.") and data.get("subscription_code"):
        return f"{kind}:{data['subscription_code']}:{data.get('status', '')}"
    if kind.startswith("invoice.") and data.get("invoice_code"):
        return f"{kind}:{data['invoice_code']}:{data.get('status', '')}:{data.get('paid', '')}"
    return f"{kind}:sha256:{hashlib.sha256(body).hexdigest()}"


def _decode(body: bytes, envelope: type[Any]) -> Any:
    try:
        body.decode()
        return msgspec.json.decode(body, type=envelope)
    except (UnicodeDecodeError, msgspec.DecodeError) as exc:
        raise InvalidInput(f"the webhook body is not the expected JSON: {exc}") from exc


async def receive_paystack(
    db: Database, settings: BillingSettings, body: bytes, headers: Mapping[str, str]
) -> bool:
    """True when stored now, False for a redelivery. Raises before storing anything when the
    signature does not match."""
    if not settings.paystack_enabled:
        raise BillingNotConfigured("Paystack is not configured on this server")
    if not verify_paystack(body, headers.get("x-paystack-signature"), settings.paystack_secret_key):
        log.warning("webhook_rejected", provider="paystack")
        raise InvalidSignature("x-paystack-signature does not match the body")
    envelope: PaystackEnvelope = _decode(body, PaystackEnvelope)
    event_id = paystack_event_id(envelope, body)
    return await _store(db, Provider.PAYSTACK, event_id, envelope.event, body)


async def receive_polar(
    db: Database,
    settings: BillingSettings,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float,
) -> bool:
    if not settings.polar_webhook_secret:
        raise BillingNotConfigured("Polar webhooks are not configured on this server")
    webhook_id = verify_polar(body, headers, settings.polar_webhook_secret, now=now)
    if webhook_id is None:
        log.warning("webhook_rejected", provider="polar")
        raise InvalidSignature("webhook-signature is missing, wrong or outside the 5 minute window")
    envelope: PolarEnvelope = _decode(body, PolarEnvelope)
    return await _store(db, Provider.POLAR, webhook_id, envelope.type, body)


async def _store(db: Database, provider: Provider, event_id: str, kind: str, body: bytes) -> bool:
    async with db.session() as session:
        stored = await webhooks.record_webhook_event(
            session,
            provider=provider.value,
            provider_event_id=event_id[:255],
            type=kind[:64],
            payload=body.decode(),
            signature_verified=True,
        )
    log.info("webhook_received", provider=provider.value, type=kind, duplicate=not stored)
    return stored
