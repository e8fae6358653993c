"""What handlers need besides the database session, built once per app in its lifespan and
handed to them as the `ctx` dependency (never a module global)."""

from __future__ import annotations

from dataclasses import dataclass, field

from traytic.db.keyring import Keyring
from traytic.http.client_ip import ClientIpResolver
from traytic.query.import_jobs import ImportTasks
from traytic.query.live import LiveHub, StreamSlots
from traytic.query.login_limits import LoginLimits
from traytic.query.mail import Mailer
from traytic.query.oidc import OidcClient
from traytic.query.passwords import Passwords
from traytic.query.rate_limit import SlidingWindowLimiter
from traytic.query.rates import ExchangeRates
from traytic.query.registry import SiteRegistrySync
from traytic.query.settings import QuerySettings
from traytic.query.stream_access import OpenStreams


@dataclass(frozen=True, slots=True)
class QueryContext:
    settings: QuerySettings
    passwords: Passwords
    login_limits: LoginLimits
    registry: SiteRegistrySync
    mailer: Mailer
    """Sign-up and invitation mails: SMTP with `smtp_host`, stdout otherwise."""
    key_limiter: SlidingWindowLimiter
    read_limiter: SlidingWindowLimiter
    live: LiveHub
    stream_slots: StreamSlots
    client_ips: ClientIpResolver
    """The trusted-proxy rule: who the client is behind the proxies (`client_address`)."""
    open_streams: OpenStreams
    oidc: OidcClient
    """Single sign-on (off unless `oidc_issuer` and `oidc_client_id` are set)."""
    keyring: Keyring
    """Seals TOTP secrets and queued mails (`TRAYTIC_SECRET_KEY`)."""

    rates: ExchangeRates = field(default_factory=ExchangeRates)
    """Revenue is converted with these (kept current by `rates.keep_exchange_rates`)."""
    imports: ImportTasks = field(default_factory=ImportTasks)
    """Imports running after their upload answered (closed by the lifespan)."""

    async def announce_access_change(self) -> None:
        """After a commit that may take access away: open live streams are re-checked."""
        await self.open_streams.announce()
