"""Values of other tools spelled as Traytic's consumer spells them, so an imported `Mac` and a
native `macOS` are one row of the devices report, not two."""

from __future__ import annotations

_DEVICES = {"desktop": "desktop", "laptop": "desktop", "mobile": "mobile", "tablet": "tablet"}
_OS = {
    "mac": "macOS",
    "mac os": "macOS",
    "mac os x": "macOS",
    "macos": "macOS",
    "os x": "macOS",
    "windows": "Windows",
    "windows 10": "Windows",
    "windows 11": "Windows",
    "windows 7": "Windows",
    "windows 8.1": "Windows",
    "ios": "iOS",
    "ipados": "iOS",
    "android": "Android",
    "android os": "Android",
    "linux": "Linux",
    "ubuntu": "Linux",
    "gnu/linux": "Linux",
    "chrome os": "ChromeOS",
    "chromeos": "ChromeOS",
    "chromium os": "ChromeOS",
}
_BROWSERS = {
    # Umami stores detect-browser's ids; Plausible and GA4 store display names.
    "chrome": "Chrome",
    "crios": "Chrome",
    "chromium-webview": "Chrome",
    "firefox": "Firefox",
    "fxios": "Firefox",
    "safari": "Safari",
    "ios": "Safari",
    "ios-webview": "Safari",
    "mobile safari": "Safari",
    "safari (in-app)": "Safari",
    "edge": "Edge",
    "edge-chromium": "Edge",
    "edge-ios": "Edge",
    "microsoft edge": "Edge",
    "opera": "Opera",
    "samsung": "Samsung Internet",
    "samsung internet": "Samsung Internet",
    "yandexbrowser": "Yandex Browser",
    "brave": "Brave",
}
_DIRECT = {"direct / none", "(direct)", "direct", "(none)", "(not set)"}


def device(value: str) -> str:
    """`desktop`, `mobile` or `tablet` (the consumer's classes); other values as given."""
    cleaned = value.strip()
    return _DEVICES.get(cleaned.lower(), cleaned)


def operating_system(value: str) -> str:
    cleaned = value.strip()
    return _OS.get(cleaned.lower(), cleaned)


def browser(value: str) -> str:
    cleaned = value.strip()
    return _BROWSERS.get(cleaned.lower(), cleaned)


def source(value: str) -> str:
    """A referrer source; the tools' names of direct traffic become "" (ours)."""
    cleaned = value.strip()
    return "" if cleaned.lower() in _DIRECT else cleaned


def region(country: str, value: str) -> str:
    """An ISO 3166-2 subdivision (`DE-BE`) as the consumer stores it: `BE`, under its country."""
    cleaned = value.strip()
    prefix = country.strip().upper() + "-"
    return cleaned[len(prefix) :] if country and cleaned.upper().startswith(prefix) else cleaned


def host(referrer_domain: str) -> str:
    """A referring host as a source: without `www.` (Umami stores the bare domain)."""
    cleaned = referrer_domain.strip().lower()
    return cleaned.removeprefix("www.")
