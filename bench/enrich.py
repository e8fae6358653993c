"""Throughput of the consumer's enrichment functions (calls per second), cached and uncached.

    uv run python bench/enrich.py [--calls 200000]

Workload: ~500 distinct realistic user agents and 10k distinct public IPv4 addresses, drawn with a
skewed (Zipf-like) distribution to 200k calls, as a day of real traffic repeats the same browsers
and visitors. GeoIP uses MaxMind's City test database from `tests/data/maxmind`
(most addresses miss it and fall back to iptocc, the realistic slow path) and no database.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from traytic.consumer.enrich.bots import BotDetector
from traytic.consumer.enrich.geo import GeoLocator
from traytic.consumer.enrich.referrers import attribute_referral
from traytic.consumer.enrich.urls import parse_page_url, primary_language
from traytic.consumer.enrich.useragent import UserAgentParser
from traytic.consumer.enrich.visitor import new_salt, visitor_id

CITY_DB = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "maxmind" / "GeoLite2-City-Test.mmdb"
)

_TEMPLATES = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android {a}; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {i}_{m} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/{i}.{m} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS {i}_{m} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/{i}.{m} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/{i}.{m} Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android {a}; SAMSUNG SM-S91{m}B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/{s}.0 Chrome/{v}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) v{v}",
)


def user_agents(rng: random.Random, count: int = 500) -> list[str]:
    agents: set[str] = set()
    while len(agents) < count:
        agents.add(
            rng.choice(_TEMPLATES).format(
                v=rng.randint(100, 133),
                a=rng.randint(9, 15),
                i=rng.randint(15, 18),
                m=rng.randint(0, 7),
                s=rng.randint(20, 27),
            )
        )
    return sorted(agents)


def public_ips(rng: random.Random, count: int = 10_000) -> list[str]:
    ips: set[str] = set()
    while len(ips) < count:
        first = rng.choice([2, 5, 8, 31, 46, 62, 77, 81, 89, 91, 104, 151, 185, 203, 212, 216])
        ips.add(f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
    return sorted(ips)


def skewed(rng: random.Random, items: Sequence[str], calls: int) -> list[str]:
    weights = [1 / (rank + 1) for rank in range(len(items))]
    return rng.choices(items, weights=weights, k=calls)


def rate(label: str, function: Callable[[str], object], inputs: Sequence[str]) -> None:
    start = time.perf_counter()
    for value in inputs:
        function(value)
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {len(inputs) / elapsed:>12,.0f} /s  ({len(inputs):,} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    agents, ips = user_agents(rng), public_ips(rng)
    ua_calls, ip_calls = skewed(rng, agents, args.calls), skewed(rng, ips, args.calls)
    few = ua_calls[: max(1, args.calls // 10)]  # the slow paths get a tenth of the calls

    ua = UserAgentParser()
    rate("user agent, uncached (ua-parser-rs)", ua.parse_uncached, ua_calls)
    rate("user agent, cached", UserAgentParser().parse, ua_calls)

    bots = BotDetector()
    rate("bot check, uncached (crawlerdetect)", bots.check_user_agent_uncached, few)
    rate("bot check, cached", BotDetector().check_user_agent, ua_calls)

    city = GeoLocator(CITY_DB)
    rate("geo, City mmdb + iptocc fallback, uncached", city.locate_uncached, ip_calls)
    rate("geo, City mmdb + iptocc fallback, cached", GeoLocator(CITY_DB).locate, ip_calls)
    bare = GeoLocator(None)
    rate("geo, iptocc only, uncached", bare.locate_uncached, ip_calls)
    rate("geo, iptocc only, cached", GeoLocator(None).locate, ip_calls)

    urls = [
        f"https://www.example.com/blog/post-{i % 300}/?utm_source=x&id={i}" for i in range(50_000)
    ]
    rate("page URL parse", parse_page_url, urls)
    referrers = ["https://www.google.com/", "https://t.co/x", "https://news.ycombinator.com/", ""]
    rate(
        "referrer attribution",
        lambda r: attribute_referral(r, "example.com"),
        [referrers[i % 4] + str(i % 50) for i in range(50_000)],
    )
    rate("primary language", primary_language, ["de-CH,de;q=0.9,en;q=0.8"] * 50_000)
    salt = new_salt()
    rate("visitor id", lambda ip: visitor_id(salt, "st_x", ip, agents[0]), ip_calls[:50_000])


if __name__ == "__main__":
    main()
