"""The demo site: a product's marketing site with docs and a blog, how people arrive at it, how
they move through it, what they click and how fast each page is for them."""

from __future__ import annotations

import bisect
import functools
import itertools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# Each page: (chance of leaving after it, the next pages with weights).
NAVIGATION: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    "/": (
        0.38,
        (("/pricing", 3), ("/features", 2.5), ("/docs", 1.5), ("/blog", 1), ("/signup", 1.2)),
    ),
    "/pricing": (0.42, (("/signup", 4.5), ("/features", 2), ("/docs", 1.5), ("/", 1.5))),
    "/features": (0.4, (("/pricing", 5), ("/docs", 3), ("/signup", 2))),
    "/docs": (
        0.3,
        (("/docs/getting-started", 5), ("/docs/tracker", 2.5), ("/docs/api", 2.5)),
    ),
    "/docs/getting-started": (
        0.45,
        (("/docs/tracker", 4), ("/docs/api", 3), ("/signup", 3), ("/docs/self-hosting", 2)),
    ),
    "/docs/tracker": (0.5, (("/docs/api", 5), ("/docs/getting-started", 3), ("/pricing", 1))),
    "/docs/api": (0.55, (("/docs/tracker", 4), ("/docs", 4), ("/docs/self-hosting", 2))),
    "/docs/self-hosting": (0.5, (("/docs/getting-started", 4), ("/pricing", 3), ("/", 2))),
    "/blog": (
        0.35,
        (
            ("/blog/privacy-first-analytics", 4),
            ("/blog/we-launched", 3),
            ("/blog/web-vitals-explained", 3),
            ("/blog/self-hosting-in-ten-minutes", 2),
        ),
    ),
    "/blog/privacy-first-analytics": (0.62, (("/", 4), ("/pricing", 2), ("/blog", 3))),
    "/blog/we-launched": (0.55, (("/", 4), ("/pricing", 3), ("/signup", 2))),
    "/blog/web-vitals-explained": (0.65, (("/docs/tracker", 3), ("/blog", 3), ("/", 2))),
    "/blog/self-hosting-in-ten-minutes": (0.58, (("/docs/self-hosting", 5), ("/", 2))),
    "/signup": (0.55, (("/docs/getting-started", 1),)),
    "/login": (0.92, (("/docs", 1),)),
    "/changelog": (0.6, (("/docs", 2), ("/", 2), ("/blog", 1))),
    "/about": (0.6, (("/", 1), ("/blog", 1))),
}
MAX_PAGES = 8


@dataclass(frozen=True, slots=True)
class Source:
    """How a visit arrives: its referrer, its landing pages and its campaign tags."""

    name: str
    referrer: str
    landings: tuple[tuple[str, float], ...]
    weight: float
    launch_weight: float = 0.0
    """Its weight during the launch days, when the mix changes."""
    utm: str = ""
    """The query string of its links, e.g. `utm_source=newsletter&utm_medium=email`."""
    newsletter: bool = False
    """Only sent on newsletter days."""


HOME = (("/", 6), ("/pricing", 1), ("/features", 1))
POSTS = (
    ("/blog/privacy-first-analytics", 4),
    ("/blog/web-vitals-explained", 3),
    ("/blog/self-hosting-in-ten-minutes", 3),
)
SOURCES = (
    Source(
        "google",
        "https://www.google.com/",
        (*HOME, ("/docs", 2), ("/docs/getting-started", 1.5), *POSTS),
        34,
        14,
    ),
    Source("direct", "", (("/", 6), ("/login", 3), ("/docs", 2), ("/pricing", 1)), 24, 14),
    Source("bing", "https://www.bing.com/", (*HOME, ("/docs", 1)), 4, 1.5),
    Source("duckduckgo", "https://duckduckgo.com/", (*HOME, ("/docs", 1), *POSTS), 4, 1.5),
    Source(
        "github",
        "https://github.com/traytic/traytic",
        (("/", 3), ("/docs/getting-started", 3), ("/docs/self-hosting", 2)),
        6,
        4,
    ),
    Source("twitter", "https://t.co/", (("/", 2), *POSTS), 4, 3),
    Source(
        "twitter-launch",
        "https://t.co/",
        (("/blog/we-launched", 3), ("/", 2)),
        0,
        10,
        "utm_source=twitter&utm_medium=social&utm_campaign=launch",
    ),
    Source("reddit", "https://www.reddit.com/r/selfhosted/", POSTS, 3, 5),
    Source(
        "hackernews",
        "https://news.ycombinator.com/",
        (("/blog/we-launched", 4), ("/", 2), *POSTS),
        2,
        30,
    ),
    Source(
        "producthunt",
        "https://www.producthunt.com/",
        (("/", 5), ("/pricing", 1)),
        0.5,
        14,
        "utm_source=producthunt&utm_medium=referral&utm_campaign=launch",
    ),
    Source("linkedin", "https://www.linkedin.com/", (("/", 2), *POSTS), 2, 2),
    Source("devto", "https://dev.to/", POSTS, 2, 1),
    Source("chatgpt", "https://chatgpt.com/", (("/", 3), ("/docs", 2), ("/pricing", 1)), 2, 1),
    Source(
        "google-ads",
        "https://www.google.com/",
        (("/pricing", 3), ("/", 2)),
        5,
        3,
        "utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=privacy+analytics",
    ),
    Source(
        "newsletter",
        "",
        (("/changelog", 3), ("/blog/web-vitals-explained", 2), ("/", 1)),
        30,
        0,
        "utm_source=newsletter&utm_medium=email&utm_campaign=monthly-update&utm_content=header",
        newsletter=True,
    ),
)


# Custom events: page prefix -> (chance on a view, name, props choices).
EVENTS: tuple[tuple[str, float, str, dict[str, tuple[tuple[str, float], ...]]], ...] = (
    (
        "/signup",
        0.42,
        "signup",
        {"plan": (("free", 70), ("pro", 24), ("team", 6))},
    ),
    ("/pricing", 0.22, "pricing_toggle", {"billing": (("yearly", 60), ("monthly", 40))}),
    ("/", 0.12, "cta_click", {"label": (("Get started", 70), ("See the live demo", 30))}),
    (
        "/docs",
        0.16,
        "copy_snippet",
        {"framework": (("html", 35), ("next", 40), ("react", 18), ("vue", 7))},
    ),
    ("/blog/", 0.035, "newsletter", {"placement": (("post-footer", 80), ("sidebar", 20))}),
    ("/docs/self-hosting", 0.2, "download", {"file": (("docker-compose.yml", 70), ("helm", 30))}),
)

# Uncaught errors: (page prefix, chance on a view, message).
ERRORS = (
    ("/docs/api", 0.02, "TypeError: Cannot read properties of undefined (reading 'map')"),
    ("/features", 0.008, "ResizeObserver loop completed with undelivered notifications."),
    ("/", 0.002, "ChunkLoadError: Loading chunk 412 failed."),
)

# Medians per route (ms; CLS unitless), before the device's and the network's slowdown.
_LCP = {"/": 1500, "/features": 2200, "/blog": 2300, "/docs": 1100, "/pricing": 1400}
_CLS = {"/blog": 0.11, "/features": 0.06}
_INP = {"/pricing": 190, "/docs/api": 260}


def _by_prefix(table: Mapping[str, float], path: str, default: float) -> float:
    matches = [prefix for prefix in table if path == prefix or path.startswith(prefix + "/")]
    return table[max(matches, key=len)] if matches else default


def vital(name: str, path: str, kind: str, far: bool, rng: random.Random) -> float:
    """One measurement, log-normally spread around the route's median."""
    slow = {"desktop": 1.0, "tablet": 1.3, "mobile": 1.7}[kind] * (1.35 if far else 1.0)
    if name == "CLS":
        median = _by_prefix(_CLS, path, 0.03) * (1.3 if kind != "desktop" else 1.0)
        return round(rng.lognormvariate(0, 0.8) * median, 4)
    if name == "INP":
        median = _by_prefix(_INP, path, 110) * (1.8 if kind != "desktop" else 1.0)
        return round(rng.lognormvariate(0, 0.5) * median)
    if name == "TTFB":
        return round(rng.lognormvariate(0, 0.5) * 170 * (1.6 if far else 1.0), 1)
    lcp = _by_prefix(_LCP, path, 1500) * slow
    median = lcp * (0.55 if name == "FCP" else 1.0)
    return round(rng.lognormvariate(0, 0.45) * median, 1)


class Weighted(Generic[T]):
    """Options drawn as often as their weights say; the running sums are made once."""

    def __init__(self, options: Iterable[tuple[T, float]]) -> None:
        kept = [(value, weight) for value, weight in options if weight > 0]
        self._values = [value for value, _ in kept]
        self._sums = list(itertools.accumulate(weight for _, weight in kept))

    def pick(self, rng: random.Random) -> T:
        return self._values[bisect.bisect_right(self._sums, rng.random() * self._sums[-1])]


@functools.lru_cache(maxsize=512)
def _table(options: tuple[tuple[str, float], ...]) -> Weighted[str]:
    return Weighted(options)


def weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    """One of a table's options (the tables above), as likely as its weight."""
    return _table(options).pick(rng)
