"""Is this event from a bot? UA crawler patterns, headless browsers, empty UAs, referrer spam.

Each check returns the reason an event is dropped, so the pipeline can count drops by reason:

| reason          | when                                                                |
|-----------------|---------------------------------------------------------------------|
| `empty_ua`      | no user agent at all (no browser omits it)                          |
| `headless`      | HeadlessChrome/HeadlessEdg, PhantomJS, SlimerJS, Lighthouse         |
| `crawler`       | crawlerdetect's patterns (Googlebot, bingbot, curl, python-requests)|
| `referrer_spam` | referrer host (or a parent domain) is on `referrer_spam.txt`        |

Lighthouse counts as headless: PageSpeed Insights and CI audits load pages without a person.
Headless is checked before crawlerdetect, whose generic `...headless` pattern would otherwise
claim HeadlessChrome as a crawler. crawlerdetect is a single large regex (~7k checks/s), so the
UA verdict is cached in a bounded LRU keyed by the UA string.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from importlib.resources import files
from typing import Literal
from urllib.parse import urlsplit

from crawlerdetect.crawlerdetect import (
    get_compiled_crawler_regex,
    get_compiled_exclusions_regex,
)

from traytic.consumer.enrich.urls import normalise_hostname

BotReason = Literal["crawler", "headless", "empty_ua", "referrer_spam"]

DEFAULT_CACHE_SIZE = 10_000
MAX_UA_LENGTH = 1024

_HEADLESS = re.compile(r"Headless|PhantomJS|SlimerJS|Lighthouse", re.IGNORECASE)


def load_referrer_spam(lines: Iterable[str] | None = None) -> frozenset[str]:
    """The spam domains from `lines`, or from the list shipped with the package."""
    if lines is None:
        text = files("traytic.consumer.enrich").joinpath("referrer_spam.txt").read_text("utf-8")
        lines = text.splitlines()
    domains = (line.split("#", 1)[0].strip().lower() for line in lines)
    return frozenset(domain for domain in domains if domain)


def referrer_host(referrer: str) -> str:
    """The normalised host of a referrer URL, "" when it has none or does not parse."""
    try:
        return normalise_hostname(urlsplit(referrer.strip()).hostname or "")
    except ValueError:
        return ""


class BotDetector:
    """Bot verdicts for user agents (cached) and referrers."""

    def __init__(
        self, cache_size: int = DEFAULT_CACHE_SIZE, spam_domains: Iterable[str] | None = None
    ) -> None:
        self._crawlers = get_compiled_crawler_regex()
        self._exclusions = get_compiled_exclusions_regex()
        self._spam = load_referrer_spam() if spam_domains is None else frozenset(spam_domains)
        self.check_user_agent = functools.lru_cache(maxsize=cache_size)(
            self.check_user_agent_uncached
        )

    def check_user_agent_uncached(self, user_agent: str) -> BotReason | None:
        ua = user_agent.strip()[:MAX_UA_LENGTH]
        if not ua:
            return "empty_ua"
        if _HEADLESS.search(ua):
            return "headless"
        # crawlerdetect's own rule: strip browser tokens that look bot-like, then match.
        agent = self._exclusions.sub("", ua)
        if agent and self._crawlers.search(agent):
            return "crawler"
        return None

    def is_referrer_spam(self, referrer: str) -> bool:
        """True when the referrer's host or one of its parent domains is a known spammer."""
        host = referrer_host(referrer)
        while host:
            if host in self._spam:
                return True
            _, _, host = host.partition(".")
        return False

    def check(self, user_agent: str, referrer: str = "") -> BotReason | None:
        """The reason to drop an event with this UA and referrer, or None to keep it."""
        reason = self.check_user_agent(user_agent)
        if reason is None and referrer and self.is_referrer_spam(referrer):
            return "referrer_spam"
        return reason
