"""structlog set-up shared by every service: JSON in production, console in a terminal.

`redact_sensitive` runs on every event before it is rendered, so a careless
`log.info("x", ip=ip)` can never write a raw IP, a user agent, a secret or a credential.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["auto", "json", "console"]

# Exact keys that carry personal data or credentials.
SENSITIVE_KEYS = frozenset(
    {
        "ip",
        "client_ip",
        "remote_addr",
        "x_forwarded_for",
        "user_agent",
        "ua",
        "authorization",
        "cookie",
        "set_cookie",
        "password",
        "api_key",
    }
)
# Any key containing one of these words is dropped too (`paystack_secret_key`, `csrf_token`).
SENSITIVE_WORDS = ("secret", "password", "token", "authorization", "credential", "private_key")


def is_sensitive(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return lowered in SENSITIVE_KEYS or any(word in lowered for word in SENSITIVE_WORDS)


def redact_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Remove sensitive fields, also one level down in dict values (e.g. `headers={...}`)."""
    for key in [k for k in event_dict if is_sensitive(k)]:
        del event_dict[key]
    for key, value in list(event_dict.items()):
        if isinstance(value, dict):
            event_dict[key] = {k: v for k, v in value.items() if not is_sensitive(str(k))}
    return event_dict


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is now (test runners and daemons replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_STDERR: Any = _CurrentStderr()


def configure_logging(level: str = "info", fmt: LogFormat = "auto") -> None:
    """Configure structlog and route the standard library's loggers through it.

    `auto` (the default) writes for whoever reads: aligned, coloured lines with the local time
    of day when stderr is a terminal (`make dev`), one JSON object per line otherwise (a log
    collector, a container), with an ISO UTC timestamp.
    """
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    stamp = (
        structlog.processors.TimeStamper(fmt="iso", utc=True)
        if use_json
        else structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        stamp,
        redact_sensitive,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    numeric_level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=_STDERR),
        cache_logger_on_first_use=True,
    )
    # Libraries (nats, granian, litestar) log through the standard library: same format, same
    # redaction, so one stream of JSON lines reaches the log collector.
    handler = logging.StreamHandler(_STDERR)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric_level, logging.INFO))
