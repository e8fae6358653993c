"""The webhook routes: verify, store, 200. Providers retry anything else, so a 2xx goes out
only once the event is committed."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency

from traytic.billing.context import BillingContext
from traytic.billing.errors import InvalidSignature
from traytic.billing.inbox import MAX_BODY_BYTES, receive_paystack, receive_polar
from traytic.core.errors import InvalidInput, PayloadTooLarge


async def _raw_body(request: Request[Any, Any, Any]) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    return body


async def _counted(
    request: Request[Any, Any, Any], provider: str, receiving: Awaitable[bool]
) -> dict[str, bool]:
    """Count the event for `/metrics` as `verified`, `duplicate` or `rejected`."""
    events = request.app.state.billing.webhook_events
    try:
        stored = await receiving
    except (InvalidSignature, InvalidInput):
        events[(provider, "rejected")] += 1
        raise
    events[(provider, "verified" if stored else "duplicate")] += 1
    return {"received": True, "duplicate": not stored}


@post("/webhooks/paystack", status_code=200, include_in_schema=False)
async def paystack_webhook(
    request: Request[Any, Any, Any], billing: NamedDependency[BillingContext]
) -> dict[str, bool]:
    body = await _raw_body(request)
    receiving = receive_paystack(billing.db, billing.settings, body, request.headers)
    return await _counted(request, "paystack", receiving)


@post("/webhooks/polar", status_code=200, include_in_schema=False)
async def polar_webhook(
    request: Request[Any, Any, Any], billing: NamedDependency[BillingContext]
) -> dict[str, bool]:
    body = await _raw_body(request)
    receiving = receive_polar(
        billing.db, billing.settings, body, request.headers, now=billing.clock()
    )
    return await _counted(request, "polar", receiving)


WEBHOOK_HANDLERS = [paystack_webhook, polar_webhook]
