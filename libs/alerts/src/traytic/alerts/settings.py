"""Alert and report settings (`TRAYTIC_*`): the SMTP server, the sender, the public URL used in
links, and the scheduler's pace. Email is off until `smtp_host` is set; Slack and webhooks need
no settings. Whatever is off is stated in the `alerts_started` log line."""

from __future__ import annotations

from typing import Any

from traytic.core.errors import ConfigurationError
from traytic.core.settings import load_settings
from traytic.core.smtp import SmtpSettings


class AlertsSettings(SmtpSettings, frozen=True, kw_only=True):
    """The SMTP fields (`smtp_*`, `mail_from`) come from `SmtpSettings`, shared with the query
    service's account mails."""

    alerts_enabled: bool = True
    """Run the scheduler in this process (any number of replicas may: they share the work)."""
    public_url: str = "http://localhost:3001"
    """Where people reach Traytic: dashboard and unsubscribe links in messages start with it."""

    alerts_tick_s: float = 5.0
    """How often each replica looks for due reports and alerts."""
    alerts_check_interval_s: float = 30.0
    """How often a spike alert is checked: a spike is reported within this plus a tick."""
    alerts_drop_check_interval_s: float = 900.0
    """How often a drop alert compares today with the same weekday in the previous weeks."""
    alerts_drop_weeks: int = 4
    """Weeks of the same weekday that make the usual level of a drop alert."""
    alerts_drop_min_visitors: int = 20
    """A usual level below this many visitors is too small to call a drop."""
    alerts_drop_min_hours: int = 3
    """Hours into the local day before a drop is judged (a day's first hour says little)."""
    alerts_lease_s: float = 120.0
    """How long a replica holds what it claimed; a dead replica's work is taken over after it.
    Longer than any single send can take (the timeouts below)."""
    alerts_batch: int = 50
    """Rows claimed at a time."""
    alerts_concurrency: int = 8
    """Messages sent at once per replica: a slow receiver holds only its own slot."""
    alerts_max_attempts: int = 6
    """Attempts before a delivery is marked failed."""
    alerts_retry_base_s: float = 30.0
    """First wait after a failed attempt; it doubles each time (with jitter)..."""
    alerts_retry_max_s: float = 3600.0
    """...up to this."""
    alerts_http_timeout_s: float = 10.0
    """Timeout of a Slack or webhook request."""
    alerts_late_after_s: float = 3600.0
    """A report sent this long after its scheduled time says it is late."""
    alerts_keep_days: int = 90
    """Sent and failed deliveries are listed this long, then deleted."""

    def check(self) -> AlertsSettings:
        """Refuse combinations that cannot work, naming the variable, at start-up."""
        self.check_smtp()
        slowest = max(self.smtp_timeout_s, self.alerts_http_timeout_s)
        if self.alerts_lease_s < 2 * slowest:
            raise ConfigurationError(
                "TRAYTIC_ALERTS_LEASE_S must be at least twice the longest send timeout "
                f"({slowest:g} s), or a slow send could be taken over and sent twice"
            )
        if not self.public_url.startswith(("http://", "https://")):
            raise ConfigurationError("TRAYTIC_PUBLIC_URL must start with http:// or https://")
        return self


def load_alerts_settings(**overrides: Any) -> AlertsSettings:
    return load_settings(AlertsSettings, **overrides).check()
