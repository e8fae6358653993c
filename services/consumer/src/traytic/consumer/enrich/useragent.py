"""User agent → browser, browser version, OS, OS version and device class.

Parsing uses ua-parser 1.x with the Rust accelerator (`ua_parser_rs`, selected through
`ua_parser.regex.Resolver`) and falls back to the pure-Python resolver when it is missing.
Results are normalised to the names people expect and cached by UA string in a bounded LRU.

Names: "Mobile Safari" is reported as `Safari` (and "Chrome Mobile" as `Chrome`, "Firefox
Mobile"/"Firefox iOS" as `Firefox`...): the device column already says mobile, so one browser is
one row in the dashboard. In-app web views keep their own name (`Chrome WebView`,
`Safari WebView`, `Facebook`, `Instagram`) because they behave differently from the browser.
OS: `Windows`, `macOS`, `iOS`, `Android`, `Linux` (every distribution), `ChromeOS`; others as
ua-parser names them. Versions are `major.minor` (or `major`). Browsers freeze parts of the UA
(macOS stays 10.15, Windows 11 says NT 10.0), so those versions are what the browser claims.

Device class:

| rule (first match wins)                                        | device  |
|----------------------------------------------------------------|---------|
| `iPad`, `Tablet`, Kindle/Silk, `PlayBook`                        | tablet  |
| Android without `Mobile` (Android's own phone/tablet convention) | tablet  |
| `Mobile`/`Mobi`, iOS (iPhone/iPod), Windows Phone, KaiOS, Opera Mini, BlackBerry | mobile |
| any other UA that names a browser or an OS                     | desktop |
| empty or unrecognisable UA                                     | `""`    |

iPads in "desktop mode" (iPadOS 13+ default) send a Mac UA and count as desktop: nothing in the
UA tells them apart.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import ua_parser
from ua_parser import Domain, Resolver

MAX_UA_LENGTH = 1024
"""Longer UAs are cut before parsing: no real browser sends more, and regexes are linear in it."""

DEFAULT_CACHE_SIZE = 10_000

_BROWSER_NAMES = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "HeadlessChrome": "Headless Chrome",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Samsung Internet": "Samsung Internet",
    "Other": "",
}

_OS_NAMES = {
    "Mac OS X": "macOS",
    "Chrome OS": "ChromeOS",
    "Ubuntu": "Linux",
    "Debian": "Linux",
    "Fedora": "Linux",
    "Red Hat": "Linux",
    "Mint": "Linux",
    "Linux Mint": "Linux",
    "Arch Linux": "Linux",
    "Gentoo": "Linux",
    "SUSE": "Linux",
    "openSUSE": "Linux",
    "Mandriva": "Linux",
    "Slackware": "Linux",
    "CentOS": "Linux",
    "Kubuntu": "Linux",
    "Other": "",
}

_UNVERSIONED_OS = frozenset({"Linux", "ChromeOS"})
"""ChromeOS's number is a platform build (14541.0.0), not a version anyone recognises."""

_TABLET_TOKENS = ("iPad", "Tablet", "Kindle", "Silk/", "PlayBook")
_MOBILE_TOKENS = ("Mobi", "iPhone", "iPod", "Windows Phone", "KaiOS", "Opera Mini", "BlackBerry")


class UserAgentInfo(NamedTuple):
    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str


UNKNOWN = UserAgentInfo("", "", "", "", "")


def _version(major: str | None, minor: str | None) -> str:
    if not major:
        return ""
    return f"{major}.{minor}" if minor else major


def device_class(user_agent: str, os: str) -> str:
    """`tablet`, `mobile` or `desktop` from UA tokens and the normalised OS name."""
    if any(token in user_agent for token in _TABLET_TOKENS) and "Windows NT" not in user_agent:
        return "tablet"
    if os == "Android" or "Android" in user_agent:
        return "mobile" if "Mobile" in user_agent else "tablet"
    if os == "iOS" or any(token in user_agent for token in _MOBILE_TOKENS):
        return "mobile"
    return "desktop"


def _best_resolver() -> Resolver:
    """The Rust-backed resolver when `ua_parser_rs` is installed, else ua-parser's default."""
    try:
        from ua_parser import regex
    except ImportError:
        return ua_parser.BasicResolver(ua_parser.load_builtins())
    resolver: Resolver = regex.Resolver(ua_parser.load_lazy_builtins())
    return resolver


class UserAgentParser:
    """Parses user agents into `UserAgentInfo`; `parse` is cached, `parse_uncached` is not."""

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._resolver = _best_resolver()
        self.parse = functools.lru_cache(maxsize=cache_size)(self.parse_uncached)

    def parse_uncached(self, user_agent: str) -> UserAgentInfo:
        ua = user_agent.strip()[:MAX_UA_LENGTH]
        if not ua:
            return UNKNOWN
        result = self._resolver(ua, Domain.USER_AGENT | Domain.OS)
        browser = browser_version = os = os_version = ""
        if (agent := result.user_agent) is not None:
            browser = _BROWSER_NAMES.get(agent.family, agent.family)
            if browser:
                browser_version = _version(agent.major, agent.minor)
        if (system := result.os) is not None:
            os = _OS_NAMES.get(system.family, system.family)
            if os and os not in _UNVERSIONED_OS:
                os_version = _version(system.major, system.minor)
        device = device_class(ua, os) if browser or os else ""
        return UserAgentInfo(browser, browser_version, os, os_version, device)
