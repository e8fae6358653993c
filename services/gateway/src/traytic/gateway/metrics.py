"""The gateway's Prometheus metrics: what it accepted and dropped, by reason, and what it published.

The hot path only bumps integers; `GatewayCollector` turns them into Prometheus metrics when
`/metrics` is scraped. Publish latency and beacons per message are observed once per batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import Histogram
from prometheus_client.core import Metric

from traytic.core.metrics import counter, labelled_counter

if TYPE_CHECKING:
    from traytic.gateway.coalescer import Coalescer

REJECTION_REASONS = (
    "invalid",
    "too_large",
    "unsupported_media_type",
    "unknown_site",
    "over_quota",
    "foreign_hostname",
    "datacenter",
    "rate_limited_ip",
    "rate_limited_site",
    "unavailable",
)
"""Every reason `/collect` turns a beacon away for, so each series exists from the start."""


class GatewayMetrics:
    def __init__(self) -> None:
        self.beacons_accepted = 0
        self.events_accepted = 0
        self.events_unknown_site = 0
        self.events_over_quota = 0
        self.rejected_by_reason: Counter[str] = Counter()
        self.events_dropped: Counter[str] = Counter()
        """Events dropped by `foreign_hostname` and `datacenter` (beacons may lose some only)."""

    def accepted(self, events: int) -> None:
        self.beacons_accepted += 1
        self.events_accepted += events

    def dropped_unknown_site(self, events: int) -> None:
        self.events_unknown_site += events
        self.rejected_by_reason["unknown_site"] += 1

    def dropped_over_quota(self, events: int) -> None:
        self.events_over_quota += events
        self.rejected_by_reason["over_quota"] += 1

    def rejected(self, reason: str) -> None:
        self.rejected_by_reason[reason] += 1

    def dropped(self, reason: str, events: int, *, whole_beacon: bool) -> None:
        self.events_dropped[reason] += events
        if whole_beacon:
            self.rejected_by_reason[reason] += 1


class PublishMetrics:
    """What the coalescer published: per batch (never per request), so histograms are cheap."""

    def __init__(self) -> None:
        self.batches_failed = 0
        self.seconds = Histogram(
            "traytic_gateway_publish_seconds",
            "Time from publishing a batch to JetStream's ack.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=None,
        )
        self.beacons = Histogram(
            "traytic_gateway_beacons_per_message",
            "Beacons coalesced into one JetStream message.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=None,
        )

    def published(self, beacons: int, seconds: float) -> None:
        self.seconds.observe(seconds)
        self.beacons.observe(beacons)

    def failed(self) -> None:
        self.batches_failed += 1


class GatewayCollector:
    """The gateway's counters as metrics, read at scrape time."""

    def __init__(self, metrics: GatewayMetrics, coalescer: Coalescer) -> None:
        self._metrics = metrics
        self._coalescer = coalescer
        self._publish = coalescer.metrics

    def collect(self) -> Iterable[Metric]:
        m = self._metrics
        yield counter(
            "traytic_gateway_beacons_accepted",
            "Beacons accepted by /collect (204 after JetStream acked them).",
            m.beacons_accepted,
        )
        yield counter(
            "traytic_gateway_events_accepted",
            "Events in the beacons accepted by /collect.",
            m.events_accepted,
        )
        reasons = dict.fromkeys(REJECTION_REASONS, 0) | m.rejected_by_reason
        yield labelled_counter(
            "traytic_gateway_beacons_rejected",
            "Beacons /collect turned away, by reason (unknown_site, over_quota, foreign_hostname"
            " and datacenter answer 204).",
            "reason",
            sorted(reasons.items()),
        )
        yield labelled_counter(
            "traytic_gateway_events_dropped",
            "Events dropped by /collect, by reason.",
            "reason",
            sorted(
                {
                    "foreign_hostname": 0,
                    "datacenter": 0,
                    **m.events_dropped,
                    "over_quota": m.events_over_quota,
                    "unknown_site": m.events_unknown_site,
                }.items()
            ),
        )
        yield counter(
            "traytic_gateway_messages_published",
            "JetStream messages (coalesced batches of beacons) published and acked.",
            self._coalescer.batches_published,
        )
        yield counter(
            "traytic_gateway_beacons_published",
            "Beacons in the JetStream messages published and acked.",
            self._coalescer.beacons_published,
        )
        yield counter(
            "traytic_gateway_publish_failures",
            "Batches JetStream did not ack (their requests got 503).",
            self._publish.batches_failed,
        )
        yield from self._publish.seconds.collect()
        yield from self._publish.beacons.collect()
