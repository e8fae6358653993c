"""Billing settings (`TRAYTIC_*`). With no provider configured billing is off: the product is
free and self-hosters need no payment provider."""

from __future__ import annotations

from typing import Any

import msgspec

from traytic.core.logging import LogFormat
from traytic.core.settings import load_settings
from traytic.db.models import Plan
from traytic.db.settings import DbSettings


class BillingSettings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 3001
    workers: int = 1
    log_level: str = "info"
    log_format: LogFormat = "auto"
    metrics_host: str = "127.0.0.1"
    """Where `/metrics` listens (`0.0.0.0` in a container); never on the public port."""
    metrics_port: int = 9104
    """`/metrics` for Prometheus on this port alone (0: off). Run one worker per container
    (`TRAYTIC_WORKERS=1`): with more, only the first worker's counters are served."""

    paystack_secret_key: str = ""
    """`sk_live_...`/`sk_test_...`: calls the API and verifies webhooks (HMAC-SHA512)."""
    paystack_base_url: str = "https://api.paystack.co"
    paystack_currency: str = "NGN"
    """The currency of your Paystack integration's plans (NGN, GHS, KES or ZAR)."""
    paystack_plan_pro: str = ""
    paystack_plan_team: str = ""
    """Plan codes (`PLN_...`) from the Paystack dashboard, in `paystack_currency`."""

    polar_access_token: str = ""
    """An organisation access token (`polar_oat_...`) with `checkouts:write`."""
    polar_webhook_secret: str = ""
    """The endpoint's secret from Polar's webhook settings (may start with `whsec_`)."""
    polar_server: str = "production"
    """`production`, `sandbox`, or a base URL (`https://...`)."""
    polar_product_pro: str = ""
    polar_product_team: str = ""
    """Polar product ids of the monthly Pro and Team products."""

    price_ghs_pro: int = 0
    price_ghs_team: int = 0
    price_kes_pro: int = 0
    price_kes_team: int = 0
    price_zar_pro: int = 0
    price_zar_team: int = 0
    """Monthly prices in subunits (pesewas, cents); 0 = not offered in that currency."""

    success_url: str = "http://localhost:3001/settings/billing"
    """Where the provider sends the customer back after paying."""
    http_timeout_s: float = 10.0
    """Timeout of each call to a provider's API."""

    run_worker: bool = True
    """Apply stored webhook events in this process too (`traytic billing` runs both)."""
    worker_poll_s: float = 1.0
    worker_max_attempts: int = 10
    """An event that failed this often stays stored with its last error, no longer retried."""
    migrate_on_start: bool = True

    enforce_quotas: bool = True
    """Flag Free organisations over their monthly events in the `quotas` bucket (the gateway
    drops those sites' beacons). Needs NATS and the warehouse; only while billing is enabled."""
    quota_interval_s: float = 60.0
    """How often every organisation's usage is recounted (a new month clears flags then)."""
    quota_grace: float = 0.1
    """Margin over the quota before beacons are dropped: 0.1 lets a Free site reach 11k."""

    plan_check_s: float = 60.0
    """How often the worker looks for subscriptions whose period ended with no webhook (a
    cancelled or unpaid subscription lapses to Free then, not when the next event arrives)."""

    enforce_retention: bool = True
    """Run the retention job, which deletes events past their retention from the warehouse:
    with billing on, each site's plan decides (Free 6 months, Pro and Team 2 years); with
    billing off, `retention_days` does."""
    retention_days: int = 0
    """With billing off (no provider): keep events this many days; 0 keeps them forever."""
    retention_interval_s: float = 86_400.0
    """How often the retention job runs (the first run is at start)."""

    session_cookie: str = "traytic_session"
    csrf_cookie: str = "traytic_csrf"
    """The query service's cookie names (the billing API accepts the dashboard's session)."""

    @property
    def paystack_enabled(self) -> bool:
        return bool(self.paystack_secret_key)

    @property
    def polar_enabled(self) -> bool:
        return bool(self.polar_access_token or self.polar_webhook_secret)

    @property
    def enabled(self) -> bool:
        return self.paystack_enabled or self.polar_enabled

    @property
    def retention_enabled(self) -> bool:
        """Whether there is a retention to enforce: the plans' when billing is on."""
        return self.enforce_retention and (self.enabled or self.retention_days > 0)

    def extra_prices(self) -> dict[str, dict[str, int]]:
        """GHS, KES and ZAR prices that are set, as `{currency: {plan: subunits}}`."""
        prices: dict[str, dict[str, int]] = {}
        for currency in ("ghs", "kes", "zar"):
            table = {
                plan.value: getattr(self, f"price_{currency}_{plan.value}")
                for plan in (Plan.PRO, Plan.TEAM)
            }
            if any(table.values()):
                prices[currency.upper()] = {k: v for k, v in table.items() if v}
        return prices

    def paystack_plan_code(self, plan: str) -> str:
        return {Plan.PRO.value: self.paystack_plan_pro, Plan.TEAM.value: self.paystack_plan_team}[
            plan
        ]

    def polar_product_id(self, plan: str) -> str:
        return {Plan.PRO.value: self.polar_product_pro, Plan.TEAM.value: self.polar_product_team}[
            plan
        ]

    def plan_for_polar_product(self, product_id: str) -> str | None:
        for plan in (Plan.PRO, Plan.TEAM):
            if product_id and product_id == self.polar_product_id(plan.value):
                return plan.value
        return None

    def plan_for_paystack_code(self, plan_code: str) -> str | None:
        for plan in (Plan.PRO, Plan.TEAM):
            if plan_code and plan_code == self.paystack_plan_code(plan.value):
                return plan.value
        return None


def load_billing_settings(**overrides: Any) -> tuple[BillingSettings, DbSettings]:
    return load_settings(BillingSettings, **overrides), load_settings(DbSettings)
