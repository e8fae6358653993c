"""Webhook payloads shaped like the providers' documented samples (Paystack's "Webhooks" and
"Subscriptions" guides; Polar's webhook schemas as in polar-sdk `v2026_10.webhooks`)."""

from __future__ import annotations

from typing import Any

PAYSTACK_CUSTOMER = {
    "id": 68324,
    "first_name": "BoJack",
    "last_name": "Horseman",
    "email": "bojack@horsinaround.com",
    "customer_code": "CUS_qo38as2hpsgk2r0",
    "phone": None,
    "metadata": None,
    "risk_action": "default",
}
AUTHORIZATION = {
    "authorization_code": "AUTH_f5rnfq9p",
    "bin": "539999",
    "last4": "8877",
    "exp_month": "08",
    "exp_year": "2027",
    "card_type": "mastercard DEBIT",
    "bank": "Guaranty Trust Bank",
    "country_code": "NG",
    "brand": "mastercard",
    "reusable": True,
    "signature": "SIG_idyuhgd87dUYSHO92D",
}
PAYSTACK_PLAN = {
    "id": 28,
    "name": "Traytic Pro",
    "plan_code": "PLN_pro_ngn",
    "description": None,
    "amount": 1490000,
    "interval": "monthly",
    "send_invoices": True,
    "send_sms": True,
    "currency": "NGN",
}


def paystack_charge_success(
    *, transaction_id: int = 302961, reference: str = "qTPrJoy9Bx", org_id: str = ""
) -> dict[str, Any]:
    return {
        "event": "charge.success",
        "data": {
            "id": transaction_id,
            "domain": "test",
            "status": "success",
            "reference": reference,
            "amount": 10000,
            "message": None,
            "gateway_response": "Approved by Financial Institution",
            "paid_at": "2026-11-28T21:10:19.000Z",
            "created_at": "2026-11-28T21:09:56.000Z",
            "channel": "card",
            "currency": "NGN",
            "ip_address": "41.242.49.37",
            "metadata": {"organisation_id": org_id} if org_id else 0,
            "log": None,
            "fees": None,
            "customer": PAYSTACK_CUSTOMER,
            "authorization": AUTHORIZATION,
            "plan": PAYSTACK_PLAN,
        },
    }


def paystack_subscription(
    *, code: str = "SUB_vsyqdmlzble3uii", status: str = "active", next_payment: str | None
) -> dict[str, Any]:
    """A subscription as both the webhook and `GET /subscription/:code` carry it."""
    return {
        "domain": "test",
        "status": status,
        "subscription_code": code,
        "email_token": "d7gofp6yppn3qz7",
        "amount": 1490000,
        "cron_expression": "0 0 28 * *",
        "next_payment_date": next_payment,
        "open_invoice": None,
        "createdAt": "2026-11-28T21:10:20.000Z",
        "plan": PAYSTACK_PLAN,
        "authorization": AUTHORIZATION,
        "customer": PAYSTACK_CUSTOMER,
        "created_at": "2026-11-28T21:10:20.000Z",
    }


def paystack_subscription_event(event: str, **fields: Any) -> dict[str, Any]:
    return {"event": event, "data": paystack_subscription(**fields)}


def paystack_invoice_event(
    event: str,
    *,
    code: str = "INV_thy2vkmirn2urwv",
    status: str = "success",
    paid: bool = True,
    subscription_code: str = "SUB_vsyqdmlzble3uii",
) -> dict[str, Any]:
    return {
        "event": event,
        "data": {
            "domain": "test",
            "invoice_code": code,
            "amount": 1490000,
            "period_start": "2026-12-28T00:00:00.000Z",
            "period_end": "2027-01-28T00:00:00.000Z",
            "status": status,
            "paid": paid,
            "paid_at": "2026-12-28T00:00:05.000Z" if paid else None,
            "description": None,
            "authorization": AUTHORIZATION,
            "subscription": {
                "status": "active",
                "subscription_code": subscription_code,
                "email_token": "d7gofp6yppn3qz7",
                "amount": 1490000,
                "cron_expression": "0 0 28 * *",
                "next_payment_date": "2027-01-28T00:00:00.000Z",
                "open_invoice": None,
            },
            "customer": PAYSTACK_CUSTOMER,
            "transaction": {
                "reference": "9ZE6Y5OFDY",
                "status": "success" if paid else "failed",
                "amount": 1490000,
                "currency": "NGN",
            },
            "created_at": "2026-12-28T00:00:00.000Z",
        },
    }


POLAR_CUSTOMER_ID = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"


def polar_customer(org_id: str, customer_id: str = POLAR_CUSTOMER_ID) -> dict[str, Any]:
    return {
        "id": customer_id,
        "created_at": "2026-11-28T12:00:00Z",
        "modified_at": None,
        "metadata": {},
        "external_id": org_id,
        "email": "owner@example.com",
        "email_verified": True,
        "name": "Acme",
        "billing_address": {"country": "DE"},
        "tax_id": None,
        "organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737",
        "deleted_at": None,
        "avatar_url": "",
    }


def polar_subscription_event(
    event: str,
    *,
    status: str,
    org_id: str = "3f8ad0f6-5a40-4c34-9f6e-0d6c1d5c7d10",
    subscription_id: str = "e5149aae-e521-42b9-b24c-abb3d71eea2e",
    product_id: str = "prod_pro",
    modified_at: str = "2026-11-28T12:00:00Z",
    period_end: str = "2026-12-28T12:00:00Z",
    cancel_at_period_end: bool = False,
    customer_id: str = POLAR_CUSTOMER_ID,
) -> dict[str, Any]:
    return {
        "type": event,
        "timestamp": modified_at,
        "api_version": "2026-10",
        "data": {
            "created_at": "2026-11-28T12:00:00Z",
            "modified_at": modified_at,
            "id": subscription_id,
            "amount": 900,
            "currency": "usd",
            "recurring_interval": "month",
            "recurring_interval_count": 1,
            "status": status,
            "current_period_start": "2026-11-28T12:00:00Z",
            "current_period_end": period_end,
            "trial_start": None,
            "trial_end": None,
            "cancel_at_period_end": cancel_at_period_end,
            "canceled_at": None,
            "started_at": "2026-11-28T12:00:00Z",
            "ends_at": period_end if cancel_at_period_end else None,
            "ended_at": None,
            "customer_id": customer_id,
            "product_id": product_id,
            "discount_id": None,
            "checkout_id": "c8d6a1f0-93e4-4f0e-9c54-3c3c2b7f1e11",
            "customer_cancellation_reason": None,
            "customer_cancellation_comment": None,
            "metadata": {"organisation_id": org_id},
            "customer": polar_customer(org_id, customer_id),
            "product": {"id": product_id, "name": "Traytic Pro", "is_recurring": True},
            "discount": None,
            "prices": [],
            "meters": [],
            "pending_update": None,
        },
    }


def polar_order_paid(
    *, org_id: str, order_id: str = "b8c4e2a4-3f0d-4b8c-8b0e-6a3c9b1f2d33"
) -> dict[str, Any]:
    return {
        "type": "order.paid",
        "timestamp": "2026-11-28T12:00:05Z",
        "api_version": "2026-10",
        "data": {
            "id": order_id,
            "created_at": "2026-11-28T12:00:01Z",
            "modified_at": "2026-11-28T12:00:05Z",
            "status": "paid",
            "paid": True,
            "subtotal_amount": 900,
            "discount_amount": 0,
            "net_amount": 900,
            "tax_amount": 0,
            "total_amount": 900,
            "refunded_amount": 0,
            "currency": "usd",
            "billing_reason": "subscription_create",
            "billing_name": "Acme",
            "invoice_number": "POLAR-0001",
            "is_invoice_generated": True,
            "customer_id": "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
            "product_id": "prod_pro",
            "subscription_id": "e5149aae-e521-42b9-b24c-abb3d71eea2e",
            "checkout_id": "c8d6a1f0-93e4-4f0e-9c54-3c3c2b7f1e11",
            "metadata": {"organisation_id": org_id},
            "customer": polar_customer(org_id),
            "items": [{"label": "Traytic Pro", "amount": 900, "proration": False}],
        },
    }
