"""Counters of what the gateway accepted and dropped, by reason (exported as metrics later)."""

from __future__ import annotations

from collections import Counter


class GatewayStats:
    def __init__(self) -> None:
        self.beacons_accepted = 0
        self.events_accepted = 0
        self.events_unknown_site = 0
        self.events_over_quota = 0
        self.rejected_by_reason: Counter[str] = Counter()

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
