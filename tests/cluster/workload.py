"""A generated workload for the cluster tests and the cluster benchmark: visitors, their beacons
(pageviews, custom events, vitals), sent through the gateways in turn, and the stats they must
give, counted here in plain Python from what was sent.

Each visitor (a user agent and an address, given in `X-Forwarded-For`, which the gateways trust
from loopback) sends its beacons through every gateway in turn, so its events reach the stream
in different messages and are enriched by different consumers: its visit still has to come out
whole. Every beacon also carries a `beacon` custom event whose prop `n` numbers it, which lets a
test count how often each beacon was stored.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from traytic.gateway.datacenter import DatacenterRanges

PAGES = ("/", "/pricing", "/blog/hello", "/docs/install", "/about", "/blog/cluster")
REFERRERS = (
    "",
    "",
    "https://www.google.com/",
    "https://news.ycombinator.com/",
    "https://github.com/",
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{n}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{n}.0) Gecko/20100101 Firefox/{n}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{n} Mobile/15E148 Safari/604.1",
)
SCREENS = (1920, 1280, 390)
VITALS = {"LCP": (2500.0, 4000.0), "CLS": (0.1, 0.25), "INP": (200.0, 500.0)}
"""Metric → (good up to, poor above): web.dev's thresholds, as the stats answer them."""
MARKER = "beacon"
SIGNUP = "signup"


@dataclass(frozen=True, slots=True)
class Beacon:
    number: int
    visitor: int
    ip: str
    user_agent: str
    body: dict[str, Any]

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.body["events"]
        return events


@dataclass(slots=True)
class Workload:
    domain: str
    site_id: str
    beacons: list[Beacon] = field(default_factory=list)

    @property
    def visitors(self) -> int:
        return len({beacon.visitor for beacon in self.beacons})


HOSTING = DatacenterRanges()
"""The gateway's own table of hosting networks and crawlers (its `datacenter` filter)."""


def _visitor_address(rnd: random.Random, visitor: int) -> str:
    """A public IPv4 address of a person, not of a server: the gateways drop a beacon from a
    hosting network or a declared crawler (the site's `filter_datacenter`, on by default) and
    still answer 204, so a random address there (about 7 in 100) would read as a lost beacon."""
    while True:
        address = f"{rnd.randint(11, 199)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{visitor % 250 + 1}"
        if address not in HOSTING:
            return address


def generate(site_id: str, domain: str, visitors: int, *, seed: int = 21) -> Workload:
    """`visitors` visitors of 2 to 5 beacons each; beacons of different visitors interleave
    (the order sent is the list's), as live traffic does."""
    rnd = random.Random(seed)
    origin = f"https://{domain}"
    per_visitor: list[list[Beacon]] = []
    number = 0
    for visitor in range(visitors):
        # A distinct (address, user agent) pair is a distinct visitor for the day's salt.
        ip = _visitor_address(rnd, visitor)
        family = visitor % len(USER_AGENTS)
        user_agent = USER_AGENTS[family].format(n=100 + rnd.randint(0, 30))
        screen = SCREENS[family]
        referrer = rnd.choice(REFERRERS)
        beacons = []
        for index in range(rnd.randint(2, 5)):
            path = rnd.choice(PAGES)
            events: list[dict[str, Any]] = [
                {"type": "event", "name": MARKER, "url": origin + path, "props": {"n": str(number)}}
            ]
            if index == 0 or rnd.random() < 0.6:
                pageview: dict[str, Any] = {"type": "pageview", "url": origin + path}
                if index == 0 and referrer:
                    pageview["referrer"] = referrer
                events.insert(0, pageview)
            if rnd.random() < 0.25:
                plan = rnd.choice(("free", "pro"))
                events.append(
                    {"type": "event", "name": SIGNUP, "url": origin + path, "props": {"plan": plan}}
                )
            if rnd.random() < 0.3:
                metric = rnd.choice(sorted(VITALS))
                good, poor = VITALS[metric]
                value = round(rnd.uniform(good * 0.3, poor * 1.5), 3 if metric == "CLS" else 1)
                events.append(
                    {"type": "vital", "name": metric, "value": value, "url": origin + path}
                )
            body = {"siteId": site_id, "screen": screen, "events": events}
            beacons.append(Beacon(number, visitor, ip, user_agent, body))
            number += 1
        per_visitor.append(beacons)
    # Interleave: each round takes the next beacon of every visitor that has one left.
    ordered: list[Beacon] = []
    rounds = max(len(beacons) for beacons in per_visitor)
    for round_ in range(rounds):
        batch = [beacons[round_] for beacons in per_visitor if len(beacons) > round_]
        rnd.shuffle(batch)
        ordered.extend(batch)
    return Workload(domain, site_id, ordered)


# ---- sending


@dataclass(slots=True)
class Delivery:
    """What sending one beacon took: its attempts (gateway, status or error) until a 204."""

    beacon: Beacon
    attempts: list[tuple[int, str]] = field(default_factory=list)
    answered_at: float = 0.0

    @property
    def stored_answer(self) -> bool:
        return bool(self.attempts) and self.attempts[-1][1] == "204"

    @property
    def uncertain(self) -> int:
        """Attempts that failed in a way that may still have stored the beacon (a timeout or a
        503 after the publish left): each may add one copy beside the one answered 204."""
        return sum(1 for _, outcome in self.attempts[:-1] if outcome not in ("refused",))


@dataclass(slots=True)
class Sender:
    """Posts beacons to the gateways, beacon n to gateway (visitor + n) % gateways, retrying a
    failed one on the next gateway (a client behind a load balancer does the same)."""

    gateways: Sequence[str]
    concurrency: int = 8
    retry_for_s: float = 120.0
    deliveries: list[Delivery] = field(default_factory=list)
    failures: list[tuple[float, int, str]] = field(default_factory=list)
    """(monotonic time, gateway, outcome) of every attempt that was not a 204."""

    async def send(self, beacons: Sequence[Beacon], *, rate: float | None = None) -> list[Delivery]:
        """Send every beacon (at most `rate` per second); returns their deliveries."""
        queue: asyncio.Queue[Beacon] = asyncio.Queue()
        for beacon in beacons:
            queue.put_nowait(beacon)
        done: list[Delivery] = []
        started = time.monotonic()
        sent = 0
        limits = httpx.Limits(max_connections=self.concurrency * 2)

        async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:

            async def worker() -> None:
                nonlocal sent
                while not queue.empty():
                    beacon = queue.get_nowait()
                    if rate:
                        sent += 1
                        delay = started + sent / rate - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    done.append(await self._deliver(client, beacon))

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        self.deliveries.extend(done)
        return done

    async def _deliver(self, client: httpx.AsyncClient, beacon: Beacon) -> Delivery:
        delivery = Delivery(beacon)
        turn = beacon.visitor + beacon.number
        deadline = time.monotonic() + self.retry_for_s
        delay = 0.05
        while True:
            index = turn % len(self.gateways)
            try:
                response = await client.post(
                    self.gateways[index] + "/collect",
                    json=beacon.body,
                    headers={
                        "User-Agent": beacon.user_agent,
                        "X-Forwarded-For": beacon.ip,
                        "Accept-Language": "en-GB,en;q=0.8",
                    },
                )
                outcome = str(response.status_code)
            except httpx.ConnectError:
                outcome = "refused"  # never reached a gateway: cannot have been stored
            except httpx.TransportError as exc:
                outcome = type(exc).__name__
            delivery.attempts.append((index, outcome))
            if outcome != "204":
                self.failures.append((time.monotonic(), index, outcome))
            if outcome == "204":
                delivery.answered_at = time.monotonic()
                return delivery
            if outcome.startswith("4"):
                raise AssertionError(f"beacon {beacon.number} refused: {outcome}")
            if time.monotonic() > deadline:
                return delivery
            turn += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


# ---- the truth


def _vital_class(metric: str, value: float) -> str:
    good, poor = VITALS[metric]
    return "good" if value <= good else "poor" if value > poor else "needs_improvement"


@dataclass(slots=True)
class Truth:
    """What the stats must say about the beacons stored (each `copies` times, normally once)."""

    visitors: int = 0
    visits: int = 0
    pageviews: int = 0
    events: int = 0
    bounces: int = 0
    pages: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Pathname → (visitors, pageviews)."""
    event_names: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Custom event name → (events, visitors)."""
    vitals: dict[str, dict[str, float]] = field(default_factory=dict)
    """Metric → samples and the shares good / needs_improvement / poor."""
    visit_shapes: Counter[tuple[int, int]] = field(default_factory=Counter)
    """(pageviews, custom events) of each visit, as a multiset."""


def truth_of(beacons: Sequence[Beacon], copies: dict[int, int] | None = None) -> Truth:
    """Counted from the beacons; `copies[n]` (default 1) is how often beacon n was stored.
    Every visitor's beacons are one visit: they are sent within seconds, far under the
    30-minute session timeout."""
    truth = Truth()
    page_visitors: dict[str, set[int]] = defaultdict(set)
    page_views: Counter[str] = Counter()
    name_visitors: dict[str, set[int]] = defaultdict(set)
    name_events: Counter[str] = Counter()
    samples: dict[str, list[float]] = defaultdict(list)
    shapes: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for beacon in beacons:
        for _ in range((copies or {}).get(beacon.number, 1)):
            shape = shapes[beacon.visitor]
            for event in beacon.events:
                path = urlsplit(event["url"]).path or "/"
                if event["type"] == "pageview":
                    shape[0] += 1
                    page_views[path] += 1
                    page_visitors[path].add(beacon.visitor)
                elif event["type"] == "event":
                    shape[1] += 1
                    name_events[event["name"]] += 1
                    name_visitors[event["name"]].add(beacon.visitor)
                elif event["type"] == "vital":
                    samples[event["name"]].append(float(event["value"]))
    truth.visitors = truth.visits = len(shapes)
    truth.pageviews = sum(page_views.values())
    truth.events = sum(name_events.values())
    truth.bounces = sum(1 for pageviews, _ in shapes.values() if pageviews == 1)
    truth.pages = {path: (len(page_visitors[path]), views) for path, views in page_views.items()}
    truth.event_names = {
        name: (count, len(name_visitors[name])) for name, count in name_events.items()
    }
    for metric, values in samples.items():
        classes = Counter(_vital_class(metric, value) for value in values)
        truth.vitals[metric] = {
            "samples": len(values),
            **{kind: classes[kind] / len(values) for kind in ("good", "needs_improvement", "poor")},
        }
    truth.visit_shapes = Counter((pageviews, events) for pageviews, events in shapes.values())
    return truth
