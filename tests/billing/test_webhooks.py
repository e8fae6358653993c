"""The webhook receivers: only genuine, fresh deliveries are stored, each exactly once."""

from __future__ import annotations

import time
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from tests.billing.conftest import (
    PAYSTACK_SECRET,
    paystack_webhook,
    polar_webhook,
    post,
    running,
    settings_for,
)
from tests.billing.payloads import paystack_charge_success, polar_subscription_event
from traytic.db import Database
from traytic.db.models import WebhookEvent


async def stored(db: Database) -> list[WebhookEvent]:
    async with db.session() as session:
        return list((await session.exec(select(WebhookEvent))).all())


async def test_paystack_genuine_event_is_stored(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    response = await post(client, "/webhooks/paystack", paystack_webhook(paystack_charge_success()))
    assert response.status_code == 200, response.text
    [event] = await stored(db)
    assert event.provider == "paystack"
    assert event.type == "charge.success"
    assert event.provider_event_id == "charge.success:302961"
    assert event.signature_verified and event.processed_at is None


async def test_paystack_forged_or_missing_signature_is_refused(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    body, headers = paystack_webhook(paystack_charge_success(), secret="sk_test_wrong")
    forged = await client.post("/webhooks/paystack", content=body, headers=headers)
    body, headers = paystack_webhook(paystack_charge_success())
    tampered = await client.post(
        "/webhooks/paystack", content=body.replace(b"10000", b"99999"), headers=headers
    )
    del headers["x-paystack-signature"]
    missing = await client.post("/webhooks/paystack", content=body, headers=headers)
    for response in (forged, tampered, missing):
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_signature"
    assert await stored(db) == []


async def test_paystack_replay_is_stored_once(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    signed = paystack_webhook(paystack_charge_success())
    first = await post(client, "/webhooks/paystack", signed)
    again = await post(client, "/webhooks/paystack", signed)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicate"] is True
    assert len(await stored(db)) == 1


async def test_polar_genuine_event_is_stored_under_its_webhook_id(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    event = polar_subscription_event("subscription.created", status="active")
    response = await post(client, "/webhooks/polar", polar_webhook(event, webhook_id="msg_1"))
    assert response.status_code == 200, response.text
    [row] = await stored(db)
    assert (row.provider, row.provider_event_id, row.type) == (
        "polar",
        "msg_1",
        "subscription.created",
    )


async def test_polar_forged_missing_and_stale_signatures_are_refused(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    event = polar_subscription_event("subscription.created", status="active")
    attempts: list[tuple[bytes, dict[str, str]]] = []
    attempts.append(polar_webhook(event, key=b"another secret"))
    body, headers = polar_webhook(event)
    attempts.append((body.replace(b"active", b"revoked"), headers))
    for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        body, headers = polar_webhook(event)
        del headers[header]
        attempts.append((body, headers))
    attempts.append(polar_webhook(event, timestamp=int(time.time()) - 6 * 60))
    attempts.append(polar_webhook(event, timestamp=int(time.time()) + 6 * 60))
    body, headers = polar_webhook(event)
    headers["webhook-id"] = "msg_other"  # the id is signed too
    attempts.append((body, headers))
    for signed in attempts:
        response = await post(client, "/webhooks/polar", signed)
        assert response.status_code == 401, (signed[1], response.text)
    assert await stored(db) == []


async def test_polar_accepts_timestamps_within_tolerance_and_several_signatures(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    event = polar_subscription_event("subscription.updated", status="active")
    body, headers = polar_webhook(event, timestamp=int(time.time()) - 4 * 60)
    # Secret rotation: Standard Webhooks lists several signatures, any one may match.
    headers["webhook-signature"] = "v1,bm90IGl0 " + headers["webhook-signature"]
    response = await client.post("/webhooks/polar", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert len(await stored(db)) == 1


async def test_polar_replay_is_stored_once(client: AsyncTestClient[Litestar], db: Database) -> None:
    event = polar_subscription_event("subscription.created", status="active")
    first = await post(client, "/webhooks/polar", polar_webhook(event, webhook_id="msg_x"))
    # A redelivery is signed anew (new timestamp) but keeps its webhook-id.
    again = await post(client, "/webhooks/polar", polar_webhook(event, webhook_id="msg_x"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert len(await stored(db)) == 1


async def test_billing_off_answers_not_configured(db: Database, database_url: str) -> None:
    async with running(settings_for(None, None), database_url) as client:
        for path, signed in (
            ("/webhooks/paystack", paystack_webhook(paystack_charge_success())),
            ("/webhooks/polar", polar_webhook({"type": "order.paid", "data": {}})),
        ):
            response = await post(client, path, signed)
            assert response.status_code == 404
            assert response.json()["error"] == "billing_not_configured"
    assert await stored(db) == []


async def test_verified_body_that_is_not_an_event_is_refused(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    from traytic.billing.signatures import paystack_signature

    body = b"[1, 2, 3]"
    headers: dict[str, Any] = {"x-paystack-signature": paystack_signature(body, PAYSTACK_SECRET)}
    response = await client.post("/webhooks/paystack", content=body, headers=headers)
    assert response.status_code == 400
    assert await stored(db) == []
