"""User agent parsing on real, current browser UAs: names, versions and device classes."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from traytic.consumer.enrich.useragent import (
    MAX_UA_LENGTH,
    UNKNOWN,
    UserAgentInfo,
    UserAgentParser,
)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 12; Lenovo TB-X606F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CHROME_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
)
CHROME_OS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.7 Mobile/15E148 Safari/604.1"
)
SAFARI_MACOS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
FIREFOX_UBUNTU = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
OPERA_MACOS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0"
)
SAMSUNG_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36"
)
ANDROID_WEBVIEW = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36"
)


@pytest.fixture(scope="module")
def parser() -> UserAgentParser:
    return UserAgentParser(cache_size=128)


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (CHROME_WINDOWS, UserAgentInfo("Chrome", "131.0", "Windows", "10", "desktop")),
        (CHROME_ANDROID, UserAgentInfo("Chrome", "131.0", "Android", "10", "mobile")),
        (CHROME_ANDROID_TABLET, UserAgentInfo("Chrome", "131.0", "Android", "12", "tablet")),
        (CHROME_IOS, UserAgentInfo("Chrome", "131.0", "iOS", "18.1", "mobile")),
        (CHROME_OS, UserAgentInfo("Chrome", "131.0", "ChromeOS", "", "desktop")),
        (SAFARI_IPHONE, UserAgentInfo("Safari", "18.1", "iOS", "18.1", "mobile")),
        (SAFARI_IPAD, UserAgentInfo("Safari", "17.7", "iOS", "17.7", "tablet")),
        (SAFARI_MACOS, UserAgentInfo("Safari", "18.1", "macOS", "10.15", "desktop")),
        (FIREFOX_WINDOWS, UserAgentInfo("Firefox", "133.0", "Windows", "10", "desktop")),
        (FIREFOX_UBUNTU, UserAgentInfo("Firefox", "133.0", "Linux", "", "desktop")),
        (FIREFOX_ANDROID, UserAgentInfo("Firefox", "133.0", "Android", "14", "mobile")),
        (EDGE_WINDOWS, UserAgentInfo("Edge", "131.0", "Windows", "10", "desktop")),
        (OPERA_MACOS, UserAgentInfo("Opera", "115.0", "macOS", "10.15", "desktop")),
        (SAMSUNG_PHONE, UserAgentInfo("Samsung Internet", "26.0", "Android", "14", "mobile")),
        (SAMSUNG_TABLET, UserAgentInfo("Samsung Internet", "23.0", "Android", "13", "tablet")),
        (ANDROID_WEBVIEW, UserAgentInfo("Chrome WebView", "127.0", "Android", "14", "mobile")),
    ],
)
def test_real_browsers(parser: UserAgentParser, ua: str, expected: UserAgentInfo) -> None:
    assert parser.parse(ua) == expected


def test_cached_and_uncached_agree(parser: UserAgentParser) -> None:
    for ua in (CHROME_WINDOWS, SAFARI_IPAD, SAMSUNG_TABLET):
        assert parser.parse(ua) == parser.parse_uncached(ua)
        assert parser.parse(ua) is parser.parse(ua)


def test_cache_is_bounded() -> None:
    small = UserAgentParser(cache_size=4)
    for version in range(20):
        small.parse(CHROME_WINDOWS.replace("131", str(version)))
    assert small.parse.cache_info().currsize == 4


def test_empty_and_blank_are_unknown(parser: UserAgentParser) -> None:
    assert parser.parse("") == UNKNOWN
    assert parser.parse("   ") == UNKNOWN


def test_bots_parse_without_an_os(parser: UserAgentParser) -> None:
    googlebot = parser.parse(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    )
    assert googlebot.browser == "Googlebot"
    assert googlebot.os == ""
    curl = parser.parse("curl/8.5.0")
    assert (curl.browser, curl.browser_version) == ("curl", "8.5")


DEVICES = {"", "desktop", "mobile", "tablet"}


@given(ua=st.text(max_size=2000))
def test_never_raises_and_stays_bounded(parser: UserAgentParser, ua: str) -> None:
    info = parser.parse_uncached(ua)
    assert info.device in DEVICES
    for field in info:
        assert len(field) <= MAX_UA_LENGTH
    if not ua.strip():
        assert info == UNKNOWN


DEVICE_TOKENS = (
    "iPad", "Tablet", "Kindle", "Silk/", "PlayBook", "Android", "Mobi", "iPhone", "iPod",
    "Windows", "KaiOS", "Opera Mini", "BlackBerry",
)  # fmt: skip


@given(
    base=st.sampled_from([CHROME_ANDROID, SAFARI_IPHONE, SAFARI_IPAD, SAMSUNG_TABLET]),
    junk=st.text(),
)
def test_appending_junk_keeps_the_device(parser: UserAgentParser, base: str, junk: str) -> None:
    """A trailing token cannot change a phone or tablet's class unless it names a device."""
    assume(not any(token in junk for token in DEVICE_TOKENS))
    assert parser.parse_uncached(f"{base} {junk}").device == parser.parse_uncached(base).device
