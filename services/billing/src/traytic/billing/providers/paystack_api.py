"""Paystack's REST API over httpx, with timeouts, checking every response.

Paystack answers `{"status": true|false, "message": ..., "data": ...}`; anything else (a
non-2xx status, a body that is not that JSON, `status: false`) raises `ProviderError` with
Paystack's own message, so nothing proceeds on a half-understood answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import structlog

from traytic.billing.errors import ProviderError

log = structlog.get_logger()


class PaystackApi:
    def __init__(self, secret_key: str, base_url: str, *, timeout_s: float) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {secret_key}"},
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = await self.http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            log.warning("paystack_unreachable", path=path, error=type(exc).__name__)
            raise ProviderError(f"Paystack could not be reached ({type(exc).__name__})") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        message = answer.get("message") if isinstance(answer, dict) else None
        if (
            not response.is_success
            or not isinstance(answer, dict)
            or answer.get("status") is not True
        ):
            log.warning("paystack_refused", path=path, status=response.status_code, message=message)
            raise ProviderError(
                f"Paystack answered {response.status_code}: {message or 'an unexpected body'}"
            )
        return answer.get("data")

    async def initialize_transaction(
        self,
        *,
        email: str,
        amount: int,
        currency: str,
        plan: str,
        reference: str,
        callback_url: str,
        metadata: dict[str, Any],
    ) -> str:
        """The hosted checkout URL (`authorization_url`). `channels: ["card"]`: Paystack only
        renews subscriptions automatically on cards."""
        data = await self._call(
            "POST",
            "/transaction/initialize",
            {
                "email": email,
                "amount": str(amount),
                "currency": currency,
                "plan": plan,
                "reference": reference,
                "callback_url": callback_url,
                "metadata": metadata,
                "channels": ["card"],
            },
        )
        url = data.get("authorization_url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ProviderError("Paystack returned no authorization_url")
        return url

    async def fetch_subscription(self, code: str) -> dict[str, Any]:
        return await self._data_dict("GET", f"/subscription/{quote(code, safe='')}")

    async def subscription_manage_link(self, code: str) -> str:
        """Paystack's hosted page where the customer updates the card or cancels."""
        data = await self._data_dict("GET", f"/subscription/{quote(code, safe='')}/manage/link")
        link = data.get("link")
        if not isinstance(link, str) or not link.startswith("https://"):
            raise ProviderError("Paystack returned no manage link")
        return link

    async def verify_transaction(self, reference: str) -> dict[str, Any]:
        return await self._data_dict("GET", f"/transaction/verify/{quote(reference, safe='')}")

    async def _data_dict(self, method: str, path: str) -> dict[str, Any]:
        data = await self._call(method, path)
        if not isinstance(data, dict):
            raise ProviderError(f"Paystack returned no object for {path}")
        return data
