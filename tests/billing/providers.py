"""Local stand-ins for the Paystack and Polar APIs, following their documented contracts:
bearer authentication, the endpoints Traytic calls, their JSON envelopes and status codes.

Paystack answers `{"status": bool, "message": str, "data": ...}` (docs: api-reference,
"Transactions", "Subscriptions"); Polar answers the objects of its OpenAPI schema (the
`Checkout` of polar-sdk's `v2026_10.outputs`) and FastAPI-style 401/422 errors.

Each stand-in also plays the customer's side: `complete_checkout()` turns the last checkout it
was asked for into the webhooks the provider then sends (payloads built from what our checkout
sent, signed as the provider signs them), and the provider's own API answers from then on agree
with them; `cancel()` does the same for the end of the subscription.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.billing.payloads import (
    PAYSTACK_PLAN,
    paystack_charge_success,
    paystack_subscription,
    polar_order_paid,
    polar_subscription_event,
)
from traytic.billing.signatures import paystack_signature, standard_webhook_signature

Delivery = tuple[bytes, dict[str, str]]
"""A webhook as the provider posts it: the raw body and its headers."""


class Stub:
    """An HTTP server on a free local port; `requests` records what it was sent."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[tuple[str, str, Any]] = []
        self.fail_next: list[tuple[int, bytes]] = []
        """Queued raw answers (status, body) given instead of the normal ones."""
        self.url = ""

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def unauthorized(self) -> tuple[int, Any]:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator[None]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                stub.requests.append((method, self.path, body))
                if self.headers.get("authorization") != f"Bearer {stub.token}":
                    status, answer = stub.unauthorized()
                    payload = json.dumps(answer).encode()
                elif stub.fail_next:
                    status, payload = stub.fail_next.pop(0)
                else:
                    status, answer = stub.handle(method, self.path, body)
                    payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()


class PaystackStub(Stub):
    def __init__(self, secret_key: str) -> None:
        super().__init__(secret_key)
        self.subscriptions: dict[str, dict[str, Any]] = {}
        """What `GET /subscription/:code` returns (the worker re-reads state from here)."""
        self.transactions: dict[str, dict[str, Any]] = {}
        self.references: set[str] = set()
        self.manage_tokens: dict[str, str] = {}
        """Subscription code -> the token in its last manage link."""

    def unauthorized(self) -> tuple[int, Any]:
        return 401, {"status": False, "message": "Invalid key"}

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/transaction/initialize":
            return self._initialize(body or {})
        if method == "GET" and path.startswith("/subscription/") and path.endswith("/manage/link"):
            return self._manage_link(
                path.removeprefix("/subscription/").removesuffix("/manage/link")
            )
        if method == "GET" and path.startswith("/subscription/"):
            code = path.removeprefix("/subscription/")
            if code not in self.subscriptions:
                return 404, {"status": False, "message": "Subscription not found"}
            return 200, {
                "status": True,
                "message": "Subscription retrieved successfully",
                "data": self.subscriptions[code],
            }
        if method == "GET" and path.startswith("/transaction/verify/"):
            reference = path.removeprefix("/transaction/verify/")
            if reference not in self.transactions:
                return 400, {"status": False, "message": "Transaction reference not found"}
            return 200, {
                "status": True,
                "message": "Verification successful",
                "data": self.transactions[reference],
            }
        return 404, {"status": False, "message": "Not found"}

    def sign(self, event: dict[str, Any]) -> Delivery:
        """Paystack's `x-paystack-signature`: hex HMAC-SHA512 of the body with the secret key."""
        body = json.dumps(event).encode()
        return body, {
            "content-type": "application/json",
            "x-paystack-signature": paystack_signature(body, self.token),
        }

    def complete_checkout(self, *, subscription_code: str, next_payment: str) -> list[Delivery]:
        """The customer pays the last page we initialised: the charge succeeds and the plan's
        subscription starts; `charge.success` and `subscription.create` go out."""
        sent = next(
            body
            for method, path, body in reversed(self.requests)
            if (method, path) == ("POST", "/transaction/initialize")
        )
        amount = int(sent["amount"])
        plan = {**PAYSTACK_PLAN, "plan_code": sent["plan"], "amount": amount}
        charge = paystack_charge_success(
            transaction_id=secrets.randbelow(10**9), reference=sent["reference"]
        )["data"]
        charge |= {"amount": amount, "currency": sent["currency"], "plan": plan}
        charge["metadata"] = sent["metadata"]
        self.transactions[sent["reference"]] = charge
        subscription = paystack_subscription(code=subscription_code, next_payment=next_payment)
        subscription |= {"plan": plan, "amount": amount}
        self.subscriptions[subscription_code] = subscription
        return [
            self.sign({"event": "charge.success", "data": charge}),
            self.sign({"event": "subscription.create", "data": subscription}),
        ]

    def cancel(self, subscription_code: str) -> Delivery:
        """The subscription is disabled at once (Paystack's `cancelled`, no next payment)."""
        subscription = self.subscriptions[subscription_code]
        subscription |= {"status": "cancelled", "next_payment_date": None}
        return self.sign({"event": "subscription.disable", "data": subscription})

    def _manage_link(self, code: str) -> tuple[int, Any]:
        """`GET /subscription/:code/manage/link` (Paystack: "Generate Update Subscription Link")."""
        if code not in self.subscriptions:
            return 404, {"status": False, "message": "Subscription not found"}
        token = self.manage_tokens[code] = secrets.token_hex(12)
        return 200, {
            "status": True,
            "message": "Link generated",
            "data": {
                "link": f"https://paystack.com/manage/subscriptions/{code}"
                f"?subscription_token={token}"
            },
        }

    def _initialize(self, body: dict[str, Any]) -> tuple[int, Any]:
        for field in ("email", "amount"):
            if not body.get(field):
                return 400, {"status": False, "message": f"{field.capitalize()} is required"}
        reference = body.get("reference") or secrets.token_hex(5)
        if reference in self.references:
            return 400, {"status": False, "message": "Duplicate Transaction Reference"}
        self.references.add(reference)
        access_code = secrets.token_hex(7)
        return 200, {
            "status": True,
            "message": "Authorization URL created",
            "data": {
                "authorization_url": f"https://checkout.paystack.com/{access_code}",
                "access_code": access_code,
                "reference": reference,
            },
        }


class PolarStub(Stub):
    def __init__(self, token: str, webhook_key: bytes = b"") -> None:
        super().__init__(token)
        self.webhook_key = webhook_key
        """The endpoint secret's key bytes (what follows `whsec_`, base64-decoded)."""
        self.customers: set[str] = set()
        """External ids of the customers Polar knows (tests add the organisations that paid)."""
        self.subscriptions: dict[str, dict[str, Any]] = {}
        """Subscriptions started by `complete_checkout`, by organisation (external id)."""

    def sign(self, event: dict[str, Any]) -> Delivery:
        """Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (v1,
        base64 HMAC-SHA256 of `id.timestamp.body`)."""
        body = json.dumps(event).encode()
        webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
        return body, {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": standard_webhook_signature(
                self.webhook_key, webhook_id, timestamp, body
            ),
        }

    def complete_checkout(self, *, period_end: str) -> list[Delivery]:
        """The customer pays the last checkout we created: the subscription becomes active
        and its first order is paid; `subscription.active` and `order.paid` go out."""
        sent = next(
            body
            for method, path, body in reversed(self.requests)
            if (method, path) == ("POST", "/v1/checkouts/")
        )
        org, product = sent["external_customer_id"], sent["products"][0]
        self.customers.add(org)
        subscription_id = str(uuid.uuid4())
        active = polar_subscription_event(
            "subscription.active",
            status="active",
            org_id=org,
            subscription_id=subscription_id,
            product_id=product,
            modified_at=_now_iso(),
            period_end=period_end,
        )
        active["data"]["metadata"] = sent["metadata"]
        self.subscriptions[org] = active["data"]
        order = polar_order_paid(org_id=org, order_id=str(uuid.uuid4()))
        order["data"] |= {"product_id": product, "subscription_id": subscription_id}
        return [self.sign(active), self.sign(order)]

    def cancel(self, org: str) -> Delivery:
        """The subscription is revoked at once (`canceled`, access ends now)."""
        subscription = self.subscriptions[org]
        subscription |= {"status": "canceled", "modified_at": _now_iso(), "ended_at": _now_iso()}
        event = {"type": "subscription.revoked", "timestamp": _now_iso(), "data": subscription}
        return self.sign(event)

    def unauthorized(self) -> tuple[int, Any]:
        return 401, {
            "error": "invalid_token",
            "error_description": "The access token provided is expired, revoked, malformed, "
            "or invalid for other reasons.",
        }

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/v1/checkouts/":
            products = (body or {}).get("products")
            if not products:
                return 422, {
                    "detail": [
                        {
                            "type": "missing",
                            "loc": ["body", "products"],
                            "msg": "Field required",
                            "input": body,
                        }
                    ]
                }
            return 201, polar_checkout(body)
        if method == "POST" and path == "/v1/customer-sessions/":
            external_id = (body or {}).get("external_customer_id")
            if external_id not in self.customers:
                return 404, {"error": "ResourceNotFound", "detail": "Customer not found"}
            return 201, polar_customer_session(external_id, (body or {}).get("return_url"))
        return 404, {"error": "ResourceNotFound", "detail": "Not found"}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def polar_checkout(request: dict[str, Any]) -> dict[str, Any]:
    """A `Checkout` as `POST /v1/checkouts/` returns it (open, not yet paid)."""
    checkout_id = f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}"
    client_secret = f"polar_c_{secrets.token_hex(16)}"
    return {
        "id": checkout_id,
        "created_at": "2026-11-28T12:00:00Z",
        "modified_at": None,
        "payment_processor": "stripe",
        "status": "open",
        "client_secret": client_secret,
        "url": f"https://sandbox.polar.sh/checkout/{client_secret}",
        "expires_at": "2026-11-28T13:00:00Z",
        "success_url": request.get("success_url") or "https://polar.sh/",
        "return_url": None,
        "embed_origin": None,
        "amount": 900,
        "units": None,
        "min_units": None,
        "max_units": None,
        "discount_amount": 0,
        "net_amount": 900,
        "tax_amount": None,
        "tax_behavior": None,
        "total_amount": 900,
        "currency": "usd",
        "allow_trial": True,
        "active_trial_interval": None,
        "active_trial_interval_count": None,
        "trial_end": None,
        "organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737",
        "product_id": request["products"][0],
        "product_price_id": None,
        "discount_id": None,
        "allow_discount_codes": True,
        "require_billing_address": False,
        "is_discount_applicable": True,
        "is_free_product_price": False,
        "is_payment_required": True,
        "is_payment_setup_required": True,
        "is_payment_form_required": True,
        "customer_id": None,
        "is_business_customer": False,
        "customer_name": None,
        "customer_email": None,
        "customer_ip_address": None,
        "customer_billing_name": None,
        "customer_billing_address": None,
        "customer_tax_id": None,
        "payment_method_type": None,
        "payment_processor_metadata": {},
        "billing_address_fields": {
            "country": "required",
            "state": "disabled",
            "city": "disabled",
            "postal_code": "disabled",
            "line1": "disabled",
            "line2": "disabled",
        },
        "trial_interval": None,
        "trial_interval_count": None,
        "metadata": request.get("metadata") or {},
        "external_customer_id": request.get("external_customer_id"),
        "products": [],
        "product": None,
        "product_price": None,
        "prices": None,
        "discount": None,
        "subscription_id": None,
        "attached_custom_fields": [],
        "customer_metadata": {},
    }


def polar_customer_session(external_id: str, return_url: str | None) -> dict[str, Any]:
    """A `CustomerSession` as `POST /v1/customer-sessions/` returns it."""
    token = f"polar_cst_{secrets.token_hex(16)}"
    return {
        "created_at": "2026-11-28T12:00:00Z",
        "modified_at": None,
        "id": f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}",
        "token": token,
        "expires_at": "2026-11-28T13:00:00Z",
        "return_url": return_url,
        "customer_portal_url": f"https://sandbox.polar.sh/acme/portal?customer_session_token={token}",
        "customer_id": "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
        "customer": {
            "id": "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
            "created_at": "2026-11-28T12:00:00Z",
            "modified_at": None,
            "metadata": {},
            "external_id": external_id,
            "email": "owner@example.com",
            "email_verified": True,
            "type": "individual",
            "name": "Acme",
            "billing_name": None,
            "billing_address": None,
            "tax_id": None,
            "locale": None,
            "organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737",
            "default_payment_method_id": None,
            "deleted_at": None,
            "first_user_event_at": None,
            "avatar_url": None,
        },
    }
