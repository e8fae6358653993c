"""`traytic-gateway` (and `traytic gateway`): the gateway alone under Granian."""

from __future__ import annotations

from traytic.core.settings import load_settings
from traytic.gateway.settings import GatewaySettings
from traytic.http.serving import serve_with_granian


def main() -> int:
    settings = load_settings(GatewaySettings)
    return serve_with_granian(
        "traytic.gateway.app:create_asgi",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
    )
