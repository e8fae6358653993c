"""The consumer's Prometheus metrics: what it inserted, dropped by reason, dead-lettered, retried.

The steps only bump numbers in `ConsumerMetrics`; `ConsumerCollector` turns them into Prometheus
metrics when they are scraped. Batch sizes and insert latency are observed once per insert.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from prometheus_client import Histogram
from prometheus_client.core import Metric

from traytic.core.metrics import counter, gauge, labelled_counter

BOT_REASONS = ("crawler", "headless", "empty_ua", "referrer_spam")


class ConsumerMetrics:
    def __init__(self) -> None:
        self.events_inserted = 0
        self.batches_inserted = 0
        self.duplicates_skipped = 0
        self.insert_retries = 0
        self.dead_lettered = 0
        self.visits_written: Counter[str] = Counter()
        """Visit rows written, by how: `memory` (from the batch) or `recomputed` (re-read)."""
        self.seconds: defaultdict[str, float] = defaultdict(float)
        """Wall time spent per step: `decode`, `enrich`, `insert` (for benchmarks and metrics)."""
        self.dropped: Counter[str] = Counter()
        """Events not stored, by reason: `crawler`, `headless`, `empty_ua`, `referrer_spam`."""
        self.pending_messages: int | None = None
        self.ack_pending_messages: int | None = None
        """From the durable consumer's info, refreshed every few seconds (None until known)."""
        self.batch_events = Histogram(
            "traytic_consumer_batch_events",
            "Rows per insert into the warehouse.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
            registry=None,
        )
        self.insert_seconds = Histogram(
            "traytic_consumer_insert_seconds",
            "Time one successful insert into the warehouse took.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=None,
        )

    def inserted(self, rows: int, seconds: float) -> None:
        self.seconds["insert"] += seconds
        self.batch_events.observe(rows)
        self.insert_seconds.observe(seconds)


class ConsumerCollector:
    """The consumer's numbers as metrics, read at scrape time."""

    def __init__(self, metrics: ConsumerMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        m = self._metrics
        yield counter(
            "traytic_consumer_events_inserted",
            "Events stored in the warehouse.",
            m.events_inserted,
        )
        yield counter(
            "traytic_consumer_batches_inserted",
            "Batches stored in the warehouse (then acked).",
            m.batches_inserted,
        )
        yield counter(
            "traytic_consumer_duplicates_skipped",
            "Events of redelivered messages found already stored, so not inserted again.",
            m.duplicates_skipped,
        )
        yield counter(
            "traytic_consumer_insert_retries",
            "Insert attempts that failed and were retried.",
            m.insert_retries,
        )
        yield counter(
            "traytic_consumer_dead_lettered",
            "Messages moved to the dead-letter stream.",
            m.dead_lettered,
        )
        dropped = dict.fromkeys(BOT_REASONS, 0) | m.dropped
        yield labelled_counter(
            "traytic_consumer_events_dropped",
            "Events not stored, by reason (bots and referrer spam).",
            "reason",
            sorted(dropped.items()),
        )
        yield labelled_counter(
            "traytic_consumer_visits_written",
            "Visit rows written: from the batch in memory, or recomputed from stored events.",
            "how",
            sorted((dict.fromkeys(("memory", "recomputed"), 0) | m.visits_written).items()),
        )
        yield labelled_counter(
            "traytic_consumer_step_seconds",
            "Wall time spent per step of the loop.",
            "step",
            sorted(m.seconds.items()),
        )
        if m.pending_messages is not None:
            yield gauge(
                "traytic_consumer_pending_messages",
                "Messages in the stream not yet delivered to the consumer (a scaling signal).",
                m.pending_messages,
            )
        if m.ack_pending_messages is not None:
            yield gauge(
                "traytic_consumer_ack_pending_messages",
                "Messages delivered and not yet acked.",
                m.ack_pending_messages,
            )
        yield from m.batch_events.collect()
        yield from m.insert_seconds.collect()
