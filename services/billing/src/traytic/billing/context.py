"""What handlers and the worker share while the service runs: settings, database, clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from polar.v2026_10 import PolarAsync

from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.settings import BillingSettings
from traytic.billing.usage import NoUsage, UsageSource
from traytic.db import Database


@dataclass(slots=True)
class BillingContext:
    settings: BillingSettings
    db: Database
    clock: Callable[[], float]
    """Unix time in seconds (injected so signature windows can be tested)."""
    paystack: PaystackApi | None = None
    polar: PolarAsync | None = None
    usage: UsageSource = field(default_factory=NoUsage)
