"""How the MCP tools reach Traytic: through its HTTP API, never around it, so a tool can do only
what the caller's API key may do, and each call counts against the key's rate limit.

- `InProcessBackend` (the server mounted on the query service): the app itself over ASGI, with
  the `Authorization` header of the MCP request that called the tool;
- `HttpBackend` (`traytic mcp` over stdio): a Traytic install's URL, with a key it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx

MAX_ANSWER = 2_000_000
"""Bytes of one API answer a tool hands back (an assistant cannot read more anyway)."""


class ApiError(Exception):
    """The API refused a call: its status and message, for the tool's error result."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Backend(Protocol):
    async def call(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any: ...


async def _send(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    authorization: str | None,
    params: Mapping[str, Any] | None,
    json: Any,
) -> Any:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "send your Traytic API key as `Authorization: Bearer <key>`")
    response = await client.request(
        method,
        path,
        params={k: v for k, v in (params or {}).items() if v is not None},
        json=json,
        headers={"Authorization": authorization},
    )
    if response.status_code >= 400:
        try:
            body = response.json()
            message = body.get("message") or body.get("error") or response.text
        except ValueError:
            message = response.text
        raise ApiError(response.status_code, str(message)[:500])
    if len(response.content) > MAX_ANSWER:
        raise ApiError(
            413, "the answer is too large: narrow the query (fewer rows or a shorter range)"
        )
    return response.json()


class InProcessBackend:
    """Calls the ASGI app the MCP endpoint is mounted in."""

    def __init__(self, app: Any) -> None:
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://traytic.internal"
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        return await _send(
            self._client, method, path, authorization=authorization, params=params, json=json
        )

    async def aclose(self) -> None:
        await self._client.aclose()


class HttpBackend:
    """Calls a Traytic install at `url` with one API key."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"), timeout=timeout, transport=transport
        )
        self._authorization = f"Bearer {key.strip()}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        return await _send(
            self._client, method, path, authorization=self._authorization, params=params, json=json
        )

    async def aclose(self) -> None:
        await self._client.aclose()
