"""`GET /healthz` (the process answers) and `GET /readyz` (its dependencies answer) for a
service, from one readiness check it supplies: what probes and load balancers call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import MediaType, get

from traytic.core.errors import ServiceUnavailable


class NotReady(ServiceUnavailable):
    """What keeps the replica from serving, worded by the service itself for the probe."""

    public = True


ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Returns what is not ready ("database unreachable"), or None when all is well."""


def health_handlers(readiness: ReadinessCheck) -> list[Any]:
    @get("/healthz", media_type=MediaType.JSON, include_in_schema=False, sync_to_thread=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", media_type=MediaType.JSON, include_in_schema=False)
    async def readyz() -> dict[str, str]:
        problem = await readiness()
        if problem:
            raise NotReady(problem, retry_after=2)
        return {"status": "ready"}

    return [healthz, readyz]
