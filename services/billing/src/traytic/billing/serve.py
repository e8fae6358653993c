"""`traytic-billing` (and `traytic billing`): webhooks, checkout and the worker under Granian."""

from __future__ import annotations

from traytic.billing.settings import BillingSettings
from traytic.core.settings import load_settings
from traytic.http.serving import serve_with_granian


def main() -> int:
    settings = load_settings(BillingSettings)
    return serve_with_granian(
        "traytic.billing.app:create_app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
    )
