"""Serve an ASGI app factory under Granian: what each HTTP service's entry point does.

Granian is imported when called: every HTTP service depends on it, the consumer does not.
"""

from __future__ import annotations


def serve_with_granian(app_factory: str, *, host: str, port: int, workers: int) -> int:
    """Run `module:factory` with `workers` processes until SIGINT/SIGTERM; returns 0."""
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        app_factory,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_access=False,
        backlog=2048,
    ).serve()
    return 0
