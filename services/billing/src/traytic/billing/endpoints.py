"""The webhook routes: verify, store, 200. Providers retry anything else, so a 2xx goes out
only once the event is committed."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency

from traytic.billing.context import BillingContext
from traytic.billing.errors import BillingError
from traytic.billing.inbox import MAX_BODY_BYTES, receive_paystack, receive_polar
from traytic.core.errors import PayloadTooLarge


def provide_context(state: State) -> BillingContext:
    context: BillingContext | None = state.billing.context
    if context is None:
        raise BillingError("the billing lifespan has not started", 503)
    return context


async def _raw_body(request: Request[Any, Any, Any]) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    return body


@post("/webhooks/paystack", status_code=200, include_in_schema=False)
async def paystack_webhook(
    request: Request[Any, Any, Any], billing: NamedDependency[BillingContext]
) -> dict[str, bool]:
    body = await _raw_body(request)
    stored = await receive_paystack(billing.db, billing.settings, body, request.headers)
    return {"received": True, "duplicate": not stored}


@post("/webhooks/polar", status_code=200, include_in_schema=False)
async def polar_webhook(
    request: Request[Any, Any, Any], billing: NamedDependency[BillingContext]
) -> dict[str, bool]:
    body = await _raw_body(request)
    stored = await receive_polar(
        billing.db, billing.settings, body, request.headers, now=billing.clock()
    )
    return {"received": True, "duplicate": not stored}


WEBHOOK_HANDLERS = [paystack_webhook, polar_webhook]
