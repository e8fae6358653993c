"""The billing service's routes: the providers' webhooks, and the dashboard's billing page."""

from traytic.billing.endpoints.dashboard import DASHBOARD_HANDLERS
from traytic.billing.endpoints.webhooks import WEBHOOK_HANDLERS

HANDLERS = [*WEBHOOK_HANDLERS, *DASHBOARD_HANDLERS]

__all__ = ["HANDLERS"]
