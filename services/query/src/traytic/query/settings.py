"""Query service settings (`TRAYTIC_*`), with defaults that work embedded (`traytic dev`)."""

from __future__ import annotations

from typing import Any

import msgspec

from traytic.core.bus import BusSettings
from traytic.core.logging import LogFormat
from traytic.core.settings import load_settings
from traytic.core.smtp import SmtpSettings
from traytic.db.settings import DbSettings


class QuerySettings(SmtpSettings, frozen=True, kw_only=True):
    """The SMTP fields (`smtp_*`, `mail_from`) are the alert reports' (`SmtpSettings`): with
    `smtp_host` set, sign-up and invitation mails go out over SMTP; without, to stdout."""

    host: str = "127.0.0.1"
    port: int = 3001
    workers: int = 1
    log_level: str = "info"
    log_format: LogFormat = "auto"
    metrics_host: str = "127.0.0.1"
    """Where `/metrics` listens (`0.0.0.0` in a container); never on the public port."""
    metrics_port: int = 9103
    """`/metrics` for Prometheus on this port alone (0: off). Run one worker per container
    (`TRAYTIC_WORKERS=1`): with more, only the first worker's counters are served."""
    public_url: str = "http://localhost:3001"
    """Where people reach the dashboard; invitation links start with it."""

    session_cookie: str = "traytic_session"
    """HttpOnly, SameSite=Lax; holds a random token whose sha256 is the login_sessions row."""
    csrf_cookie: str = "traytic_csrf"
    """Readable by the dashboard's JavaScript, which echoes it in `X-CSRF-Token` on writes."""
    secure_cookies: bool = False
    """Mark both cookies `Secure` (HTTPS only) even when `public_url` is http: they always are
    when it is https. Off by default so `http://localhost` works in dev."""
    session_lifetime_s: int = 14 * 24 * 3600
    """A login lasts this long (absolute, not sliding)."""

    login_rate_limit: int = 10
    """Failed logins allowed per email and client address before each further one waits (1 s,
    doubling up to `login_rate_window_s`); 429 with `Retry-After` meanwhile. Shared by the
    replicas through the `limits` KV bucket (see `traytic.query.login_limits`)."""
    login_rate_window_s: float = 300.0
    login_address_limit: int = 50
    """Failed logins allowed per client address (any account) before it backs off."""
    login_account_limit: int = 20
    """Failed logins allowed per account (any address) before it backs off..."""
    login_account_max_wait_s: float = 30.0
    """...by at most this long: what a stranger can make the real user wait, never a lock."""
    signup_rate_limit: int = 10
    """Sign-ups per client address an hour (after which each waits `signup_rate_window_s`)."""
    signup_rate_window_s: float = 360.0
    signup_email_limit: int = 3
    """Sign-ups per email address an hour (each sends that address a mail), then each waits
    `signup_rate_window_s`: nobody can flood a stranger's inbox through the sign-up form."""
    signup_link_lifetime_s: int = 24 * 3600
    """How long the link that a sign-up mails (and that makes the account) works."""

    two_factor_issuer: str = "Traytic"
    """The name authenticator apps show beside the account (the otpauth URI's issuer)."""
    two_factor_pending_s: int = 300
    """How long a right password waits for its second factor before it must be entered again."""
    two_factor_code_limit: int = 5
    """Wrong second-factor codes allowed per account before each further one waits (1 s,
    doubling up to 15 minutes): guessing a 6-digit code takes years, not minutes."""

    oidc_issuer: str = ""
    """Single sign-on with OpenID Connect: the provider's issuer URL (its discovery document is
    `<issuer>/.well-known/openid-configuration`); empty turns single sign-on off. Register
    `<public_url>/api/auth/oidc/callback` as the redirect URI at the provider."""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    """The client's credentials at the provider (a secret: set it from a secret store)."""
    oidc_name: str = "SSO"
    """What the login page calls the provider: "Sign in with <name>"."""
    oidc_scopes: str = "openid email profile"
    oidc_create_accounts: bool = True
    """A person the provider vouches for (with a verified email) who has no account gets one;
    off: only existing accounts may sign in this way."""
    oidc_domain_orgs: list[str] = msgspec.field(default_factory=list)
    """`domain=org-slug[:role]` rules: people signing in with an email of `domain` join that
    organisation with that role (viewer unless said), e.g. `example.com=acme:viewer`."""

    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    """`TRAYTIC_TRUSTED_PROXIES`, the gateway's rule: addresses or CIDRs of the proxies in front,
    whose `X-Forwarded-For` names the client (login limits, rate limits, stream caps)."""

    password_min_length: int = 8
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    """argon2id cost (RFC 9106's second recommended profile by default)."""

    mail_attempts: int = 8
    """Tries per account mail (sign-up, invitations) before it is given up (`mail_failed`); a
    5xx refusal is not tried again. Mails wait in the database (`mail_outbox`), not in memory:
    a restart or a crash loses none."""
    mail_retry_base_s: float = 2.0
    """Wait after the first failed try; it doubles each time (with jitter)..."""
    mail_retry_max_s: float = 300.0
    """...up to this."""
    mail_tick_s: float = 5.0
    """How often each replica looks for due mails besides its own (retries, another replica's,
    those left by a stopped one); a replica sends the mails its requests queue at once."""
    invitation_lifetime_s: int = 7 * 24 * 3600

    registry_timeout_s: float = 2.0
    """How long a request waits on the `sites` KV write before leaving it to the resync."""
    registry_retry_s: float = 1.0
    """First delay of the background resync after a failed KV write (doubles, up to 30 s)."""
    migrate_on_start: bool = True
    """Upgrade the relational database when the service starts."""

    api_key_rate_limit: int = 600
    """Stats and stream requests allowed per API key within a minute (a sliding window), then
    429 with `Retry-After`; 0 turns the limit off. Counted in this process's memory: each
    replica counts on its own, so N replicas allow up to N times the limit."""
    api_key_rate_window_s: float = 60.0
    read_rate_limit: int = 1200
    """Read units (stats and stream requests) per signed-in person, or per client address for
    anonymous readers of public sites and share pages, within `read_rate_window_s`; 0 turns it
    off. The dashboard's opening view spends about 10. Per replica, like the key limit."""
    read_rate_window_s: float = 60.0
    raw_scan_cost: int = 5
    """What a filtered query (read from the raw events, not the rollups) costs; others cost 1."""
    sample_above: int = 20_000_000
    """A filtered report over more events than this reads a sample of the visitors and scales
    its counts, an unfiltered one its visit figures (from `sessions`), saying so (`sampled`);
    `?sampling=exact` reads all. 0: never."""

    stream_max_per_caller: int = 10
    """Concurrent live streams (`/api/stream/...`) per API key, per signed-in user, or per
    client address for anonymous readers of a public site; one more is 429. Per replica."""
    stream_heartbeat_s: float = 15.0
    """A comment line this often keeps proxies from closing an idle stream."""
    stream_visitors_interval_s: float = 5.0
    """How often a stream sends the live-visitor count."""
    stream_retry_ms: int = 3000
    """The `retry:` field: how long a browser waits before reconnecting a dropped stream."""
    stream_recheck_s: float = 60.0
    """Open streams are re-checked at once when access changes (announced over NATS), and this
    often in any case (sessions that expired, an announcement missed)."""
    stream_queue_size: int = 1000
    """Events buffered per stream; a client that falls further behind loses the oldest."""

    exchange_rates_file: str = ""
    """A JSON file of exchange rates (`{"base": "USD", "rates": {"EUR": 0.92, ...}}`) that
    revenue is converted with; empty: the sample shipped with Traytic (see the README)."""
    exchange_rates_url: str = ""
    """A provider URL answering the same JSON (openexchangerates.org's `latest.json`, Frankfurter,
    exchangerate.host...); when set it wins over the file and is fetched again periodically."""
    exchange_rates_refresh_s: float = 3600.0
    """How often `exchange_rates_url` is fetched again (a failed fetch keeps the last rates)."""

    import_max_bytes: int = 512 * 2**20
    """Largest file an import upload may be (a year of Plausible's export is a few MB; Umami's
    raw events are larger); bigger ones get a 413: import those with `traytic import`."""
    import_dir: str = ""
    """Where uploads wait while they are imported (deleted after); empty: the system temp dir."""

    def checked(self) -> QuerySettings:
        """Refuse, at start-up, settings that cannot work, naming the variable."""
        self.check_smtp()
        return self

    @property
    def cookies_secure(self) -> bool:
        """Cookies carry `Secure` wherever people reach Traytic over https."""
        return self.secure_cookies or self.public_url.lower().startswith("https://")


def load_query_settings(**overrides: Any) -> tuple[QuerySettings, DbSettings, BusSettings]:
    return (
        load_settings(QuerySettings, **overrides).checked(),
        load_settings(DbSettings),
        load_settings(BusSettings),
    )
