"""What handlers and the worker share while the service runs: settings, database, clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from litestar.datastructures import State

from traytic.billing.errors import BillingError
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.providers.polar_api import PolarClient
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
    polar: PolarClient | None = None
    usage: UsageSource = field(default_factory=NoUsage)


def provide_context(state: State) -> BillingContext:
    """The `billing` dependency of every route: the running service's context."""
    context: BillingContext | None = state.billing.context
    if context is None:
        raise BillingError("the billing lifespan has not started", 503)
    return context
