"""Who visits the demo site: countries (with their addresses, languages and time zones) and devices.

Addresses are real public IPv4 addresses that the consumer's GeoIP resolves to the intended
country: whole /24 blocks found by sampling, each checked with the same `GeoLocator` the dev
consumer uses (the packaged MaxMind test database, then iptocc). A share of some countries'
visitors come from the networks that MaxMind's test database places in a city, so the demo has
cities too.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from traytic.consumer.enrich.geo import GeoLocator


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    weight: float
    utc_offset_h: float
    """Where most of its visitors live, for their daily rhythm."""
    languages: tuple[tuple[str, float], ...]
    """`Accept-Language` values and their shares."""
    cities: tuple[tuple[str, float], ...] = ()
    """Networks (CIDR) of MaxMind's test database in a city of this country, and the share of
    the country's visitors who come from each."""


COUNTRIES = (
    Country(
        "US",
        27,
        -6,
        (("en-US,en;q=0.9", 0.9), ("es-US,es;q=0.9,en;q=0.8", 0.1)),
        (("216.160.83.56/29", 0.04), ("214.78.0.0/19", 0.1)),
    ),
    Country(
        "GB",
        9,
        0,
        (("en-GB,en;q=0.9", 1.0),),
        (("81.2.69.160/27", 0.3), ("81.2.69.144/28", 0.1), ("2.125.160.216/29", 0.05)),
    ),
    Country("DE", 9, 1, (("de-DE,de;q=0.9,en;q=0.8", 0.85), ("en-US,en;q=0.9", 0.15))),
    Country("IN", 7, 5.5, (("en-IN,en;q=0.9,hi;q=0.8", 0.8), ("en-US,en;q=0.9", 0.2))),
    Country("FR", 5, 1, (("fr-FR,fr;q=0.9,en;q=0.8", 0.9), ("en-US,en;q=0.9", 0.1))),
    Country("CA", 4, -5, (("en-CA,en;q=0.9", 0.75), ("fr-CA,fr;q=0.9,en;q=0.8", 0.25))),
    Country("NL", 3, 1, (("nl-NL,nl;q=0.9,en;q=0.8", 0.7), ("en-GB,en;q=0.9", 0.3))),
    Country("BR", 3, -3, (("pt-BR,pt;q=0.9,en;q=0.8", 1.0),)),
    Country("JP", 3, 9, (("ja-JP,ja;q=0.9,en;q=0.8", 1.0),)),
    Country(
        "SE",
        2.5,
        1,
        (("sv-SE,sv;q=0.9,en;q=0.8", 0.8), ("en-GB,en;q=0.9", 0.2)),
        (("89.160.20.128/25", 0.45),),
    ),
    Country("AU", 2, 10, (("en-AU,en;q=0.9", 1.0),)),
    Country("ES", 2, 1, (("es-ES,es;q=0.9,en;q=0.8", 1.0),)),
    Country("PL", 2, 1, (("pl-PL,pl;q=0.9,en;q=0.8", 1.0),)),
    Country("NG", 2, 1, (("en-NG,en;q=0.9", 1.0),)),
    Country("IT", 1.8, 1, (("it-IT,it;q=0.9,en;q=0.8", 1.0),)),
    Country(
        "CN",
        1.2,
        8,
        (("zh-CN,zh;q=0.9,en;q=0.8", 1.0),),
        (("175.16.199.0/24", 0.5),),
    ),
    Country("MX", 1.2, -6, (("es-MX,es;q=0.9,en;q=0.8", 1.0),)),
    Country("KE", 1, 3, (("en-KE,en;q=0.9,sw;q=0.8", 1.0),)),
    Country("ZA", 1, 2, (("en-ZA,en;q=0.9", 1.0),)),
    Country("KR", 1, 9, (("ko-KR,ko;q=0.9,en;q=0.8", 1.0),)),
    Country("CH", 1, 1, (("de-CH,de;q=0.9,en;q=0.8", 0.6), ("fr-CH,fr;q=0.9", 0.4))),
    Country("UA", 0.8, 2, (("uk-UA,uk;q=0.9,en;q=0.8", 1.0),)),
)

BLOCKS_PER_COUNTRY = 6
_MAX_DRAWS = 400_000


class Addresses:
    """Visitor addresses per country, drawn from blocks that resolve to it."""

    def __init__(self, rng: random.Random, locator: GeoLocator) -> None:
        self._rng = rng
        self._blocks = self._find_blocks(locator)

    def _find_blocks(self, locator: GeoLocator) -> dict[str, list[int]]:
        """Sample /24 blocks of the public IPv4 space until each country has a few whose first
        and last hosts both resolve to it."""
        wanted = {country.code for country in COUNTRIES}
        blocks: dict[str, list[int]] = {code: [] for code in wanted}
        for _ in range(_MAX_DRAWS):
            if not wanted:
                break
            base = self._rng.randrange(1 << 24) << 8
            first = ipaddress.IPv4Address(base + 1)
            if not first.is_global:
                continue
            code = locator.locate(str(first)).country
            if code in wanted and locator.locate(str(first + 253)).country == code:
                blocks[code].append(base)
                if len(blocks[code]) == BLOCKS_PER_COUNTRY:
                    wanted.discard(code)
        return {code: found for code, found in blocks.items() if found}

    def pick(self, country: Country) -> str:
        roll = self._rng.random()
        for network, share in country.cities:
            if roll < share:
                net = ipaddress.ip_network(network)
                return str(net[self._rng.randrange(net.num_addresses)])
            roll -= share
        blocks = self._blocks.get(country.code)
        if not blocks:  # not found in the sample: an address of another country is no better
            return ""
        return str(ipaddress.IPv4Address(self._rng.choice(blocks) + self._rng.randrange(1, 255)))


@dataclass(frozen=True, slots=True)
class Device:
    user_agent: str
    """A template: `{v}` is a browser version, `{m}` a minor version."""
    weight: float
    kind: str
    """desktop, mobile or tablet: picks the screen width and how slow pages are."""
    vitals: tuple[str, ...]
    """The Web Vitals this browser measures."""
    versions: tuple[int, int] = (128, 131)


ALL_VITALS = ("LCP", "CLS", "INP", "FCP", "TTFB")
DEVICES = (
    Device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36",
        24,
        "desktop",
        ALL_VITALS,
    ),
    Device(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36",
        15,
        "desktop",
        ALL_VITALS,
    ),
    Device(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.{m} Safari/605.1.15",
        8,
        "desktop",
        ("FCP", "TTFB"),
    ),
    Device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.2903.70",
        6,
        "desktop",
        ALL_VITALS,
    ),
    Device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
        5,
        "desktop",
        ("LCP", "FCP", "TTFB"),
        (131, 133),
    ),
    Device(
        "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
        3,
        "desktop",
        ("LCP", "FCP", "TTFB"),
        (131, 133),
    ),
    Device(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36",
        3,
        "desktop",
        ALL_VITALS,
    ),
    Device(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.{m} Mobile/15E148 Safari/604.1",
        18,
        "mobile",
        ("FCP", "TTFB"),
    ),
    Device(
        "Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Mobile Safari/537.36",
        13,
        "mobile",
        ALL_VITALS,
    ),
    Device(
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        3,
        "mobile",
        ALL_VITALS,
    ),
    Device(
        "Mozilla/5.0 (iPad; CPU OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.{m} Mobile/15E148 Safari/604.1",
        2,
        "tablet",
        ("FCP", "TTFB"),
    ),
)

SCREENS = {
    "desktop": (1280, 1366, 1440, 1440, 1536, 1680, 1920, 1920, 2560),
    "mobile": (360, 375, 390, 390, 393, 412, 414, 430),
    "tablet": (768, 810, 820, 834, 1024),
}


def user_agent(device: Device, rng: random.Random) -> str:
    return device.user_agent.format(v=rng.randint(*device.versions), m=rng.randint(2, 6))
