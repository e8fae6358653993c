"""What the consumer did: inserted, dropped by reason, dead-lettered, retried."""

from __future__ import annotations

from collections import Counter, defaultdict


class ConsumerStats:
    def __init__(self) -> None:
        self.events_inserted = 0
        self.batches_inserted = 0
        self.duplicates_skipped = 0
        self.insert_retries = 0
        self.dead_lettered = 0
        self.seconds: defaultdict[str, float] = defaultdict(float)
        """Wall time spent per step: `decode`, `enrich`, `insert` (for benchmarks and metrics)."""
        self.dropped: Counter[str] = Counter()
        """Events not stored, by reason: `crawler`, `headless`, `empty_ua`, `referrer_spam`."""
