"""What handlers need besides the database session, built once per app in its lifespan and
handed to them as the `ctx` dependency (never a module global)."""

from __future__ import annotations

from dataclasses import dataclass, field

from traytic.query.live import LiveHub, StreamSlots
from traytic.query.mail import ConsoleMailer
from traytic.query.passwords import Passwords
from traytic.query.rate_limit import SlidingWindowLimiter
from traytic.query.rates import ExchangeRates
from traytic.query.registry import SiteRegistrySync
from traytic.query.settings import QuerySettings


@dataclass(frozen=True, slots=True)
class QueryContext:
    settings: QuerySettings
    passwords: Passwords
    login_limiter: SlidingWindowLimiter
    registry: SiteRegistrySync
    mailer: ConsoleMailer
    key_limiter: SlidingWindowLimiter
    live: LiveHub
    stream_slots: StreamSlots
    rates: ExchangeRates = field(default_factory=ExchangeRates)
    """Revenue is converted with these (kept current by `rates.keep_exchange_rates`)."""
