"""A site's traffic, generated: the beacons its tracker would have sent over the last days.

Seeded and pure (the end time is given), so a test can generate the same traffic and compute
what the dashboard must show. The rhythm: visitors come by day in their own time zone, less at
weekends, a little more each week; a launch on a Tuesday about two weeks ago brings a spike
from Hacker News, Product Hunt and a Twitter campaign that fades over three days; two
newsletter days bring their tagged clicks. Each visit follows the site's links; the beacons
carry page views (the landing page's referrer and campaign tags), custom events with props, Web
Vitals and engagement (engaged time, scroll depth) when the page is left, outbound link clicks
and downloads, the odd dead link (a 404) and uncaught error, batched as the tracker batches them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from traytic.cli.demo.audience import COUNTRIES, DEVICES, SCREENS, Addresses, Country, user_agent
from traytic.cli.demo.site import (
    ERRORS,
    EVENTS,
    MAX_PAGES,
    NAVIGATION,
    SOURCES,
    Source,
    Weighted,
    vital,
    weighted,
)
from traytic.consumer.enrich.geo import GeoLocator

DAY_S = 86_400
# Visits by local hour: asleep, the morning climb, the afternoon peak, the evening tail.
HOURS = (
    0.2, 0.12, 0.08, 0.07, 0.08, 0.15, 0.35, 0.6, 0.9, 1.05, 1.1, 1.1,
    1.0, 1.05, 1.15, 1.2, 1.15, 1.05, 0.95, 0.9, 0.85, 0.7, 0.5, 0.32,
)  # fmt: skip
WEEKDAYS = (1.0, 1.05, 1.05, 1.0, 0.9, 0.55, 0.6)  # Monday first
LAUNCH = (5.0, 2.4, 1.5, 1.2)
"""Traffic on the launch day and the three after it, against a normal day."""
LAUNCH_MIX = (0.85, 0.6, 0.35, 0.15)
"""Share of those days' visits that arrive the way launch traffic does."""
NEAR = frozenset({"US", "CA", "GB", "DE", "FR", "NL", "SE", "ES", "IT", "PL", "CH"})
"""Countries close to the demo's server: a faster first byte."""
RETURN_SAME_DAY = 0.12
LIVE_VISITS = 6
VITALS_SHARE = 0.35
"""Page views whose Web Vitals reach the server: many leave before the page is hidden in a way
that lets a beacon out, and a month of every one would crowd out the page views of the demo."""
"""Visits started in the last few minutes, so the live view has someone on the site."""
DEAD_LINK = "/docs/v1/setup"
DEAD_LINK_SHARE = 0.01
"""Visits that land on a page which is gone (an old link elsewhere): its 404 page reports it."""
OUTBOUND = (
    ("/docs", 0.06, "https://github.com/traytic/traytic"),
    ("/blog/", 0.05, "https://news.ycombinator.com/item"),
    ("/features", 0.03, "https://github.com/traytic/traytic"),
)
DOWNLOADS = (("/docs", 0.03, "/downloads/traytic-self-hosting.pdf"),)
"""(page prefix, chance a view ends with that click, the link's URL or path)."""


@dataclass(frozen=True, slots=True)
class SampleBeacon:
    """One POST /collect: when, from whom, and the JSON body the tracker sends."""

    at: float
    ip: str
    user_agent: str
    language: str
    body: dict[str, Any]

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.body["events"]
        return events


@dataclass(slots=True)
class Person:
    """One visitor's beacons of a day, in the order they must arrive."""

    beacons: list[SampleBeacon] = field(default_factory=list)

    @property
    def starts(self) -> float:
        return self.beacons[0].at


@dataclass(frozen=True, slots=True)
class Calendar:
    """The days of the sample and how busy each is."""

    first_day: int
    """The first day, as days since the epoch (UTC)."""
    weights: tuple[float, ...]
    launch_day: int
    newsletter_days: frozenset[int]

    @classmethod
    def ending(cls, end: float, days: int) -> Calendar:
        last = int(end // DAY_S)
        first = last - days + 1
        launch = max(0, days - 12)
        while launch > 0 and (first + launch + 3) % 7 != 1:  # launches happen on a Tuesday
            launch -= 1
        newsletters = frozenset(d for d in (days - 25, days - 9) if 0 <= d < days)
        weights = []
        for index in range(days):
            weekday = (first + index + 3) % 7  # 1970-01-01 was a Thursday
            weight = WEEKDAYS[weekday] * (0.75 + 0.5 * index / days)
            if 0 <= index - launch < len(LAUNCH):
                weight *= LAUNCH[index - launch]
            if index in newsletters:
                weight *= 1.35
            if index == days - 1:  # today: only the hours gone by
                weight *= (end - last * DAY_S) / DAY_S
            weights.append(weight)
        return cls(first, tuple(weights), launch, newsletters)

    def launch_mix(self, index: int) -> float:
        since = index - self.launch_day
        return LAUNCH_MIX[since] if 0 <= since < len(LAUNCH_MIX) else 0.0


class TrafficGenerator:
    """Visits and their beacons for one site; `rng` decides everything."""

    def __init__(self, site_id: str, origin: str, rng: random.Random, locator: GeoLocator) -> None:
        self._site_id = site_id
        self._origin = origin.rstrip("/")
        self._rng = rng
        self._addresses = Addresses(rng, locator)
        self._countries = Weighted((c, c.weight) for c in COUNTRIES)
        self._devices = Weighted((d, d.weight) for d in DEVICES)
        self._hours = Weighted(enumerate(HOURS))
        # by (launch traffic, newsletter day)
        self._sources = {
            (launch, newsletter): Weighted(
                (s, s.launch_weight if launch else s.weight)
                for s in SOURCES
                if newsletter or not s.newsletter
            )
            for launch in (False, True)
            for newsletter in (False, True)
        }

    def people(self, *, events: int, days: int, end: float) -> list[Person]:
        """About `events` events over `days` days up to `end`, by visitor, in time order."""
        calendar = Calendar.ending(end, days)
        day_choices = Weighted(enumerate(calendar.weights))
        people: list[Person] = []
        total = 0
        while total < events:
            index = day_choices.pick(self._rng)
            person = self._person(calendar, index, end, live=False)
            if person.beacons:
                people.append(person)
                total += sum(len(b.events) for b in person.beacons)
        for _ in range(LIVE_VISITS):
            person = self._person(calendar, days - 1, end, live=True)
            if person.beacons:
                people.append(person)
        people.sort(key=lambda p: p.starts)
        return people

    def _person(self, calendar: Calendar, index: int, end: float, *, live: bool) -> Person:
        rng = self._rng
        country = self._countries.pick(rng)
        ip = self._addresses.pick(country)
        device = self._devices.pick(rng)
        who = (ip, user_agent(device, rng), weighted(rng, country.languages))
        screen = rng.choice(SCREENS[device.kind])
        if live:
            start = end - rng.uniform(20, 240)
        else:
            day_start = (calendar.first_day + index) * DAY_S
            hour = self._hours.pick(rng)
            start = day_start + (hour - country.utc_offset_h) * 3600 + rng.uniform(0, 3600)
            if start < calendar.first_day * DAY_S:  # the day before the window: a day later
                start += DAY_S
            while start > end:  # today's hours not yet come: earlier today instead
                start -= rng.uniform(0.5, 6) * 3600
        source = self._source(calendar, index)
        person = Person()
        visits = 2 if not live and rng.random() < RETURN_SAME_DAY else 1
        for visit in range(visits):
            if visit and not person.beacons:
                break
            if visit:
                start = person.beacons[-1].at + rng.uniform(1, 5) * 3600
                source = next(s for s in SOURCES if s.name == "direct")
            if not ip:
                break
            for at, events in self._visit(source, country, device.kind, device.vitals, start):
                if at <= end:
                    body = {"siteId": self._site_id, "screen": screen, "events": events}
                    person.beacons.append(SampleBeacon(at, *who, body))
        return person

    def _source(self, calendar: Calendar, index: int) -> Source:
        launch = self._rng.random() < calendar.launch_mix(index)
        return self._sources[launch, index in calendar.newsletter_days].pick(self._rng)

    def _visit(
        self, source: Source, country: Country, kind: str, measured: tuple[str, ...], start: float
    ) -> Iterator[tuple[float, list[dict[str, Any]]]]:
        """(time, events) of each beacon of one visit, as the tracker batches them."""
        rng = self._rng
        far = country.code not in NEAR
        path = weighted(rng, source.landings)
        if rng.random() < DEAD_LINK_SHARE:
            path = DEAD_LINK
        referrer = source.referrer
        query = f"?{source.utm}" if source.utm else ""
        at = start
        hidden: list[dict[str, Any]] = []  # the previous page's vitals, sent as it was left
        for _ in range(MAX_PAGES):
            url = f"{self._origin}{path}"
            view: dict[str, Any] = {"type": "pageview", "url": url + query}
            if referrer:
                view["referrer"] = referrer
            if path == DEAD_LINK:
                yield at, [*hidden, view, self._event("404", url, url)]
                break
            yield at, [*hidden, view]
            reading = path.startswith(("/docs", "/blog/"))  # people read docs and posts longer
            dwell = min(600.0, max(3.0, rng.lognormvariate(3.8 if reading else 3.2, 0.9)))
            clicked = self._interactions(path, url)
            if clicked:
                yield at + dwell * rng.uniform(0.2, 0.8), clicked
            left = self._link_clicked(path)
            if left:
                yield at + dwell, [left]
            hidden = [self._engagement(url + query, dwell, reading)]
            for name in measured if rng.random() < VITALS_SHARE else ():
                if name == "INP" and not clicked and rng.random() < 0.4:
                    continue  # INP needs an interaction: most visitors scroll or click
                value = vital(name, path, kind, far, rng)
                hidden.append({"type": "vital", "name": name, "value": value, "url": url})
            at += dwell
            leave, links = NAVIGATION.get(path, (1.0, ()))
            if not links or rng.random() < leave or (left and left["name"] != "File Download"):
                break
            referrer, query, path = url + query, "", weighted(rng, links)
        if hidden:
            yield at, hidden

    def _event(self, name: str, url: str, target: str) -> dict[str, Any]:
        return {"type": "event", "name": name, "url": url, "props": {"url": target}}

    def _link_clicked(self, path: str) -> dict[str, Any] | None:
        """An outbound link or a download clicked on this page, as the tracker sends it."""
        url = f"{self._origin}{path}"
        for prefix, chance, target in DOWNLOADS:
            if path.startswith(prefix) and self._rng.random() < chance:
                return self._event("File Download", url, f"{self._origin}{target}")
        for prefix, chance, target in OUTBOUND:
            if path.startswith(prefix) and self._rng.random() < chance:
                return self._event("Outbound Link: Click", url, target)
        return None

    def _engagement(self, url: str, dwell: float, reading: bool) -> dict[str, Any]:
        """The page's engaged time (a part of the dwell: tabs switched, idle spells) and how
        far down it was read."""
        rng = self._rng
        depth = rng.betavariate(3.0, 1.6) if reading else rng.betavariate(2.0, 1.8)
        return {
            "type": "engagement",
            "url": url,
            "engagedMs": int(dwell * 1000 * rng.uniform(0.45, 0.95)),
            "scrollDepth": max(10, min(100, round(depth * 100))),
        }

    def _interactions(self, path: str, url: str) -> list[dict[str, Any]]:
        rng = self._rng
        found: list[dict[str, Any]] = []
        for prefix, chance, name, props in EVENTS:
            on_page = path == prefix if prefix == "/" else path.startswith(prefix)
            if on_page and rng.random() < chance:
                values = {key: weighted(rng, options) for key, options in props.items()}
                found.append({"type": "event", "name": name, "url": url, "props": values})
        for prefix, chance, message in ERRORS:
            on_page = path == prefix if prefix == "/" else path.startswith(prefix)
            if on_page and rng.random() < chance:
                found.append({"type": "error", "message": message, "url": url})
        return found


def generate(
    site_id: str,
    origin: str,
    locator: GeoLocator,
    *,
    events: int,
    days: int,
    end: float,
    seed: int,
) -> list[Person]:
    """The demo's traffic for `site_id`: the same arguments give the same beacons."""
    rng = random.Random(seed)  # noqa: S311 - sample traffic, reproducible by its seed
    generator = TrafficGenerator(site_id, origin, rng, locator)
    return generator.people(events=events, days=days, end=end)
