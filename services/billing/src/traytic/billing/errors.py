"""The billing service's expected failures, each rendered by `traytic.core.errors`."""

from __future__ import annotations

from traytic.core.errors import TrayticError


class BillingError(TrayticError):
    """Base of every billing failure."""


class BillingNotConfigured(BillingError):
    """No payment provider is set up (or not the one asked for): everything is free."""

    status = 404
    code = "billing_not_configured"


class InvalidSignature(BillingError):
    """A webhook whose signature is missing, wrong or stale; nothing of it is stored."""

    status = 401
    code = "invalid_signature"


class ProviderError(BillingError):
    """The payment provider refused or failed; the message says which and why."""

    status = 502
    code = "provider_error"
    public = True  # worded by us from the provider's answer, for the admin who checks out


class RetryLater(BillingError):
    """A webhook cannot be applied yet (say, its customer is not known yet): retried."""
