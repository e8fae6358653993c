"""Visits from the batch in hand: the `sessions` row of each visit this replica alone writes,
kept up to date in memory as its events are inserted, so no visit is re-read from the warehouse.

A visit qualifies while this replica started it and nobody else has written an event of it
(`identify` and `shared` keep that promise, across replicas); every other visit (shared, from
before this process, forgotten from memory, or in a batch that may have been stored before) is
recomputed from its stored events (`Warehouse.refresh_sessions`). Both ways give the same row:
`traytic.warehouse.sessions` defines it, and a test compares them on both engines.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from traytic.warehouse.rows import EventRow
from traytic.warehouse.sessions import SessionRow

VisitKey = tuple[str, int]
"""(site id, session id)."""

DEFAULT_MAX_VISITS = 100_000
"""Visits kept in memory (least recently touched forgotten first): ~40 MB. A forgotten visit is
not lost, it is recomputed from its stored events next time."""


class _Visit:
    """A visit's figures so far; the row is built from it on demand."""

    __slots__ = (
        "count",
        "entry",
        "entry_order",
        "events",
        "exit",
        "exit_order",
        "first",
        "first_row",
        "last_ts",
        "pageviews",
        "started",
    )

    def __init__(self, started: int) -> None:
        self.started = started
        self.count = 0
        self.pageviews = 0
        self.events = 0
        self.first = -1
        """`event_order` of the first event (-1: none yet): the visit carries its attributes."""
        self.first_row: EventRow | None = None
        self.last_ts = 0
        self.entry_order = -1
        """`event_order` of the first pageview (-1: none yet), `exit_order` of the last."""
        self.exit_order = -1
        self.entry = ""
        self.exit = ""

    def add(self, rows: Iterable[EventRow]) -> None:
        for row in rows:
            kind = row.type
            if kind == "pageview":
                self.pageviews += 1
            elif kind == "event":
                self.events += 1
            else:
                continue  # vitals and errors are not part of a visit's figures
            ts = row.ts
            order = (ts << 32) | (row.event_id & 0xFFFF_FFFF)  # event_order(ts, event_id)
            if kind == "pageview":
                if self.entry_order < 0 or order < self.entry_order:
                    self.entry_order, self.entry = order, row.pathname
                if order > self.exit_order:
                    self.exit_order, self.exit = order, row.pathname
            self.count += 1
            if self.first < 0 or order < self.first:
                self.first = order
                self.first_row = row
            self.last_ts = max(self.last_ts, ts)

    def row(self, site_id: str, session_id: int) -> SessionRow | None:
        first = self.first_row
        if first is None:
            return None  # no pageview or custom event yet: no row, as the refresh gives none
        return SessionRow(
            site_id,
            self.started,
            session_id,
            first.visitor_id,
            first.ts,
            self.last_ts,
            self.pageviews,
            self.events,
            self.entry,
            self.exit,
            first.hostname,
            first.referrer,
            first.referrer_source,
            first.channel,
            first.utm_source,
            first.utm_medium,
            first.utm_campaign,
            first.utm_term,
            first.utm_content,
            first.country,
            first.region,
            first.city,
            first.browser,
            first.os,
            first.device,
            first.screen,
            self.count,
        )


class VisitMemory:
    """The visits this replica writes alone, bounded (least recently touched forgotten first)."""

    def __init__(self, max_visits: int = DEFAULT_MAX_VISITS) -> None:
        self._visits: OrderedDict[VisitKey, _Visit] = OrderedDict()
        self._max = max_visits

    def __contains__(self, key: VisitKey) -> bool:
        return key in self._visits

    def __len__(self) -> int:
        return len(self._visits)

    def forget(self, key: VisitKey) -> None:
        self._visits.pop(key, None)

    def apply(
        self, key: VisitKey, started: int, rows: Iterable[EventRow], *, new: bool
    ) -> SessionRow | None:
        """Add a visit's newly stored rows; its row as it now stands (None: nothing to show yet).

        `new`: the visit started in this batch, so nothing of it can be stored before."""
        visit = None if new else self._visits.get(key)
        if visit is None:
            visit = _Visit(started)
        visits = self._visits
        visits[key] = visit
        visits.move_to_end(key)
        visit.add(rows)
        if len(visits) > self._max:
            visits.popitem(last=False)
        return visit.row(*key)
