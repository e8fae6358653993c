"""Gateway settings (`TRAYTIC_*`), with defaults that work embedded."""

from __future__ import annotations

from typing import Any

import msgspec

from traytic.core.bus import BusSettings
from traytic.core.logging import LogFormat
from traytic.core.settings import load_settings


class GatewaySettings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 3001
    workers: int = 1
    log_level: str = "info"
    log_format: LogFormat = "auto"
    metrics_host: str = "127.0.0.1"
    """Where `/metrics` listens (`0.0.0.0` in a container); never on the public port."""
    metrics_port: int = 9102
    """`/metrics` for Prometheus on this port alone (0: off). Run one worker per container
    (`TRAYTIC_WORKERS=1`): with more, only the first worker's counters are served."""

    max_body_bytes: int = 64 * 1024
    """A larger body is refused with 413 before it is read."""
    max_events: int = 50
    """Events in one beacon."""
    max_props: int = 30
    max_prop_key_length: int = 64
    max_prop_value_length: int = 512
    max_url_length: int = 2048
    max_name_length: int = 128
    max_error_message_length: int = 2048

    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    """Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed, e.g. your load balancer."""

    publish_timeout_s: float = 5.0
    """How long a request waits for JetStream's ack before answering 503."""
    coalesce_max_beacons: int = 256
    coalesce_max_bytes: int = 512 * 1024
    """Keep below the NATS server's max_payload (1 MiB by default)."""
    max_inflight_batches: int = 64
    cors_max_age_s: int = 86400

    rate_limit_ip_per_s: float = 20.0
    """Beacons a second from one client address, across all replicas; then 429. 0: no limit.
    Behind a proxy that is not in `trusted_proxies`, every visitor shares the proxy's address."""
    rate_limit_ip_burst: int = 200
    rate_limit_exempt: list[str] = msgspec.field(
        default_factory=lambda: [
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
        ]
    )
    """Client networks not limited per address: your own machines, or a proxy missing from
    `trusted_proxies` (behind which all visitors would share one limit). Empty: none."""
    rate_limit_site_per_s: float = 1000.0
    """Beacons a second for one site (those that passed the hostname and datacenter checks),
    across all replicas; then 429. 0: no limit."""
    rate_limit_site_burst: int = 10000
    rate_limit_sync_s: float = 0.25
    """How often replicas share what their limits spent (NATS subject `traytic.ratelimit`)."""
    filter_datacenter: bool = True
    """Drop beacons from hosting networks for sites that keep their `filter_datacenter` on;
    false turns the check off for every site."""


def load_gateway_settings(**overrides: Any) -> tuple[GatewaySettings, BusSettings]:
    return load_settings(GatewaySettings, **overrides), load_settings(BusSettings)
