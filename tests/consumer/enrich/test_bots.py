"""Bot verdicts: real crawler and headless UAs are dropped with their reason, browsers kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traytic.consumer.enrich.bots import BotDetector, load_referrer_spam, referrer_host

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BROWSERS = [
    CHROME,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36",
]
CRAWLERS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.6778.139 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.32.3",
]
HEADLESS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
]


@pytest.fixture(scope="module")
def detector() -> BotDetector:
    return BotDetector(cache_size=256)


@pytest.mark.parametrize("ua", BROWSERS)
def test_browsers_are_kept(detector: BotDetector, ua: str) -> None:
    assert detector.check(ua, "https://www.google.com/") is None


@pytest.mark.parametrize("ua", CRAWLERS)
def test_crawlers(detector: BotDetector, ua: str) -> None:
    assert detector.check(ua) == "crawler"


@pytest.mark.parametrize("ua", HEADLESS)
def test_headless_browsers(detector: BotDetector, ua: str) -> None:
    assert detector.check(ua) == "headless"


@pytest.mark.parametrize("ua", ["", "  ", "\t"])
def test_empty_user_agent(detector: BotDetector, ua: str) -> None:
    assert detector.check(ua) == "empty_ua"


@pytest.mark.parametrize(
    "referrer",
    [
        "https://semalt.com/",
        "http://www.semalt.com/crawler.php?u=x",
        "https://forum.semalt.com/",
        "https://DARODAR.COM/path#frag",
    ],
)
def test_referrer_spam_matches_host_and_subdomains(detector: BotDetector, referrer: str) -> None:
    assert detector.check(CHROME, referrer) == "referrer_spam"


@pytest.mark.parametrize(
    "referrer",
    ["https://notsemalt.com/", "https://semalt.com.example.org/", "https://example.com/semalt.com"],
)
def test_referrer_spam_needs_a_domain_boundary(detector: BotDetector, referrer: str) -> None:
    assert detector.check(CHROME, referrer) is None


def test_a_bot_ua_reason_wins_over_referrer_spam(detector: BotDetector) -> None:
    assert detector.check("curl/8.5.0", "https://semalt.com/") == "crawler"


def test_shipped_spam_list_is_clean() -> None:
    domains = load_referrer_spam()
    assert "semalt.com" in domains
    assert all(d == d.strip().lower() and "/" not in d and "." in d for d in domains)


def test_custom_spam_list() -> None:
    own = BotDetector(cache_size=8, spam_domains=load_referrer_spam(["# mine", "spam.test  # x"]))
    assert own.check(CHROME, "https://a.spam.test/") == "referrer_spam"
    assert own.check(CHROME, "https://semalt.com/") is None


def test_cached_verdicts_match_uncached(detector: BotDetector) -> None:
    for ua in BROWSERS + CRAWLERS + HEADLESS:
        assert detector.check_user_agent(ua) == detector.check_user_agent_uncached(ua)


REASONS = {None, "crawler", "headless", "empty_ua", "referrer_spam"}


@given(ua=st.text(max_size=2000), referrer=st.text(max_size=500))
def test_never_raises(detector: BotDetector, ua: str, referrer: str) -> None:
    assert detector.check_user_agent_uncached(ua) in REASONS
    assert detector.check(ua, referrer) in REASONS
    assert isinstance(referrer_host(referrer), str)
