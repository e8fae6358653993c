"""Slack incoming webhooks and signed webhooks: an HTTP POST of the stored body.

Both carry the delivery's idempotency key (`Idempotency-Key`), the same on every attempt, so a
receiver can drop a message it already has (a resend after a crash between its answer and our
record of it). Slack answers `200 ok`; its documented errors (400 invalid_payload, 403, 404
no_service, 410 channel_is_archived) will not heal by retrying, unlike 429 and 5xx.
"""

from __future__ import annotations

import httpx

from traytic.alerts.channels import SendError
from traytic.alerts.signing import signature

USER_AGENT = "Traytic-Alerts/1"
USER_AGENT_HEADERS = {"user-agent": USER_AGENT}
SLACK_PERMANENT = frozenset({400, 403, 404, 410})


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


async def _post(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    try:
        return await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise SendError(f"no answer within the timeout ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise SendError(f"could not reach the receiver ({type(exc).__name__})") from exc


def _failure(response: httpx.Response, permanent: bool) -> SendError:
    detail = response.text[:200].strip()
    return SendError(
        f"HTTP {response.status_code}" + (f": {detail}" if detail else ""),
        permanent=permanent,
        retry_after_s=_retry_after(response),
    )


async def send_slack(client: httpx.AsyncClient, url: str, body: str, key: str) -> None:
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "idempotency-key": key,
    }
    response = await _post(client, url, body.encode(), headers)
    if response.status_code != 200:
        raise _failure(response, response.status_code in SLACK_PERMANENT)


async def send_webhook(
    client: httpx.AsyncClient, url: str, body: str, key: str, *, secret: str, now: float
) -> None:
    raw = body.encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "idempotency-key": key,
        "traytic-signature": signature(secret, int(now), raw),
    }
    response = await _post(client, url, raw, headers)
    if not 200 <= response.status_code < 300:
        # 410 Gone: the receiver says it is not coming back. Anything else may be fixed.
        raise _failure(response, response.status_code == 410)
