"""A known dataset for the dashboard's browser tests: visitors, their beacons, and what the stats
API must answer for them, worked out here from the generated events in plain Python (counting
what was sent), independently of the warehouse's SQL.

Every visitor sends one beacon right away, so each visitor is one visit (sessions end after 30
idle minutes) and everything lands in the current hour. A visitor is a user agent (the visitor
id hashes the IP, the same loopback address for all, with the user agent).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{n}.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:{n}.0) Gecko/20100101 Firefox/{n}.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{n} Mobile/15E148 Safari/604.1"
)
FAMILIES = {"chrome": (CHROME, 1920), "firefox": (FIREFOX, 1280), "iphone": (IPHONE, 390)}
PAGES = ["/", "/pricing", "/blog/hello", "/docs/install", "/about"]
REFERRERS = ["https://www.google.com/", "https://news.ycombinator.com/", "https://github.com/"]
ORIGIN = "http://localhost"


@dataclass
class Visitor:
    family: str
    user_agent: str
    screen: int
    referrer: str
    paths: list[str]
    custom: list[tuple[str, dict[str, str]]]

    def events(self) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = [
            {
                "type": "pageview",
                "url": ORIGIN + path,
                **({"referrer": self.referrer} if i == 0 and self.referrer else {}),
            }
            for i, path in enumerate(self.paths)
        ]
        for name, props in self.custom:
            sent.append(
                {"type": "event", "name": name, "url": ORIGIN + self.paths[-1], "props": props}
            )
        return sent


@dataclass
class Dataset:
    visitors: list[Visitor] = field(default_factory=list)

    # What the API must answer, counted from the visitors above.

    def overview(self) -> dict[str, float]:
        pageviews = sum(len(v.paths) for v in self.visitors)
        visits = len(self.visitors)
        return {
            "visitors": len(self.visitors),
            "visits": visits,
            "pageviews": pageviews,
            "viewsPerVisit": pageviews / visits,
            "bounceRate": sum(len(v.paths) == 1 for v in self.visitors) / visits,
            "events": sum(len(v.custom) for v in self.visitors),
        }

    def pages(self) -> dict[str, tuple[int, int]]:
        """Path -> (visitors, pageviews)."""
        seen: dict[str, set[int]] = defaultdict(set)
        views: Counter[str] = Counter()
        for i, v in enumerate(self.visitors):
            for path in v.paths:
                seen[path].add(i)
                views[path] += 1
        return {path: (len(seen[path]), views[path]) for path in seen}

    def visitors_of(self, path: str) -> int:
        return sum(path in v.paths for v in self.visitors)

    def custom_events(self) -> dict[str, tuple[int, int]]:
        """Event name -> (visitors, events)."""
        seen: dict[str, set[int]] = defaultdict(set)
        count: Counter[str] = Counter()
        for i, v in enumerate(self.visitors):
            for name, _ in v.custom:
                seen[name].add(i)
                count[name] += 1
        return {name: (len(seen[name]), count[name]) for name in seen}

    def props(self, event: str) -> dict[str, tuple[int, int]]:
        """`key:value` -> (visitors, events) among one event's props."""
        seen: dict[str, set[int]] = defaultdict(set)
        count: Counter[str] = Counter()
        for i, v in enumerate(self.visitors):
            for name, props in v.custom:
                if name == event:
                    for key, value in props.items():
                        seen[f"{key}:{value}"].add(i)
                        count[f"{key}:{value}"] += 1
        return {kv: (len(seen[kv]), count[kv]) for kv in seen}

    def visitors_by_family(self) -> list[int]:
        """Visitors per browser family, largest first (the API's names are its own)."""
        return sorted(Counter(v.family for v in self.visitors).values(), reverse=True)

    def visitors_by_referrer(self) -> list[int]:
        """Visitors per referring site, largest first, direct visits left out."""
        counts = Counter(v.referrer for v in self.visitors if v.referrer)
        return sorted(counts.values(), reverse=True)


def generate(seed: int = 8, size: int = 36) -> Dataset:
    rng = random.Random(seed)
    data = Dataset()
    for n in range(size):
        family = rng.choice(list(FAMILIES))
        template, screen = FAMILIES[family]
        paths = rng.sample(PAGES, rng.randint(1, 3))
        custom: list[tuple[str, dict[str, str]]] = []
        if rng.random() < 0.4:
            custom.append(("signup", {"plan": rng.choice(["free", "pro"])}))
        if rng.random() < 0.3:
            custom.append(("download", {"file": rng.choice(["guide.pdf", "deck.pdf"])}))
        data.visitors.append(
            Visitor(
                family=family,
                # Versions far apart per family: no two visitors share a user agent.
                user_agent=template.format(n=(60 + n) if family != "iphone" else n),
                screen=screen,
                referrer=rng.choice([*REFERRERS, ""]),
                paths=paths,
                custom=custom,
            )
        )
    return data
