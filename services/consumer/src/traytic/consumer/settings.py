"""Consumer settings (`TRAYTIC_*`), with defaults that work embedded."""

from __future__ import annotations

import msgspec

from traytic.core.logging import LogFormat


class ConsumerSettings(msgspec.Struct, frozen=True, kw_only=True):
    consumer_name: str = "traytic-consumer"
    """The durable JetStream consumer every replica shares."""
    batch_max_events: int = 20_000
    batch_max_wait_s: float = 1.0
    """A batch is written when it holds `batch_max_events` or is this old, whichever first.
    Large batches make a backlog cheap: chDB spends a fixed ~35 ms on each insert with the
    rollup views (insert CPU per row with every view, merges counted: 29 us in inserts of 5,000,
    10 us in inserts of 20,000); a quiet stream still goes out at once (`batch_idle_s`)."""
    batch_idle_s: float = 0.1
    """...or once no message arrived for this long (a quiet stream: the live view stays live)."""
    fetch_size: int = 256
    """Messages per pull request."""
    ack_wait_s: float = 60.0
    max_ack_pending: int = 20_000
    decode_max_deliveries: int = 3
    """A message that still cannot be decoded after this many deliveries is dead-lettered."""
    insert_retry_max_s: float = 30.0
    """Longest pause between insert retries while ClickHouse is down."""
    geoip_path: str | None = None
    """A MaxMind-format `.mmdb` (GeoLite2-City...); without one, country comes from iptocc."""
    session_timeout_s: int = 1800
    session_write_interval_s: int = 60
    """How stale a session's `last_seen` in KV may get while it is active (fewer KV writes)."""
    live_events: bool = True
    """Publish enriched events on `traytic.live.<site>` for the live view."""
    pending_poll_s: float = 5.0
    """How often the pending-messages metric is read from JetStream (not on every scrape)."""
    metrics_port: int = 9101
    """`traytic consumer` alone serves Prometheus `/metrics` on this port (`TRAYTIC_METRICS_PORT`;
    0 turns it off). Embedded (`traytic dev`), the app's own `/metrics` shows the consumer."""
    log_level: str = "info"
    log_format: LogFormat = "auto"
