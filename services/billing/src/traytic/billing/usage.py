"""Events counted this month per organisation, for `GET /api/billing` and quotas.

An interface for now: the warehouse's monthly count per organisation's sites is not wired in
yet, so the default source answers 0 (and quotas never trip).
"""

from __future__ import annotations

import uuid
from typing import Protocol


class UsageSource(Protocol):
    async def events_this_month(self, organisation_id: uuid.UUID) -> int: ...


class NoUsage:
    """Placeholder until the warehouse count is wired in."""

    async def events_this_month(self, organisation_id: uuid.UUID) -> int:
        return 0
