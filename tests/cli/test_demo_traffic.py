"""The demo's traffic generator alone (pure and seeded): the rhythm and the mix it promises,
counted on a month of its beacons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest

from traytic.cli.demo.traffic import SampleBeacon, generate
from traytic.cli.geoip import TEST_CITY_DB
from traytic.consumer.enrich.geo import GeoLocator

END = datetime(2026, 3, 20, 15, 30, tzinfo=UTC).timestamp()  # a Friday afternoon


@pytest.fixture(scope="module")
def locator() -> Iterator[GeoLocator]:
    found = GeoLocator(TEST_CITY_DB)
    yield found
    found.close()


MONTH_EVENTS = 50_000


@pytest.fixture(scope="module")
def month(locator: GeoLocator) -> list[SampleBeacon]:
    people = generate(
        "st_demo", "http://localhost", locator, events=MONTH_EVENTS, days=30, end=END, seed=3
    )
    return [beacon for person in people for beacon in person.beacons]


def _views(beacons: list[SampleBeacon]) -> list[tuple[SampleBeacon, str]]:
    return [(b, e["url"]) for b in beacons for e in b.events if e["type"] == "pageview"]


def test_the_same_seed_gives_the_same_traffic(locator: GeoLocator) -> None:
    def once(seed: int) -> list[tuple[float, str, str]]:
        people = generate(
            "st_x", "http://localhost", locator, events=500, days=7, end=END, seed=seed
        )
        return [(b.at, b.ip, str(b.body)) for p in people for b in p.beacons]

    assert once(5) == once(5)
    assert once(5) != once(6)


def test_about_the_asked_number_of_events_all_in_the_window(month: list[SampleBeacon]) -> None:
    total = sum(len(b.events) for b in month)
    assert MONTH_EVENTS <= total <= MONTH_EVENTS * 1.01
    first = datetime.fromtimestamp(END, UTC).date().toordinal() - 29
    assert all(b.at <= END for b in month)
    assert all(datetime.fromtimestamp(b.at, UTC).date().toordinal() >= first for b in month)
    assert any(END - b.at < 300 for b in month)  # someone is on the site now


def test_the_rhythm_launch_weekends_and_nights(month: list[SampleBeacon]) -> None:
    per_day = Counter(datetime.fromtimestamp(b.at, UTC).date() for b, _ in _views(month))
    busiest = max(per_day, key=lambda day: per_day[day])
    assert busiest == date(2026, 3, 3)  # the Tuesday on or before twelve days back
    ordinary = sorted(n for day, n in per_day.items() if abs((day - busiest).days) > 3)
    assert per_day[busiest] > 3 * ordinary[len(ordinary) // 2]
    full = [d for d in per_day if d != max(per_day) and abs((d - busiest).days) > 3]
    weekend = [per_day[d] for d in full if d.weekday() >= 5]
    weekdays = [per_day[d] for d in full if d.weekday() < 5]
    assert sum(weekend) / len(weekend) < 0.8 * sum(weekdays) / len(weekdays)
    # Europe and the Americas asleep: the quietest four hours start between 00:00 and 04:00
    # UTC, with under half the views of the busiest four.
    by_hour = Counter(datetime.fromtimestamp(b.at, UTC).hour for b, _ in _views(month))
    stretch = {start: sum(by_hour[(start + h) % 24] for h in range(4)) for start in range(24)}
    quietest = min(stretch, key=lambda start: stretch[start])
    assert 0 <= quietest <= 4, stretch
    assert stretch[quietest] < max(stretch.values()) / 2


def test_the_mix_sources_campaigns_countries_devices_events(
    month: list[SampleBeacon], locator: GeoLocator
) -> None:
    views = _views(month)
    landings = [(b, url) for b, url in views if "?" in url]
    campaigns = Counter(url.split("utm_campaign=")[1].split("&")[0] for _, url in landings)
    assert {"launch", "brand", "monthly-update"} <= set(campaigns)
    referrers = Counter(
        urlsplit(e["referrer"]).hostname
        for b in month
        for e in b.events
        if e["type"] == "pageview" and "referrer" in e and "localhost" not in e["referrer"]
    )
    assert {"www.google.com", "news.ycombinator.com", "github.com", "t.co"} <= set(referrers)
    people = {(b.ip, b.user_agent) for b in month}
    countries = Counter(locator.locate(ip).country for ip, _ in people)
    assert len(countries) >= 20 and countries.most_common(1)[0][0] == "US"
    cities = {locator.locate(ip).city for ip, _ in people} - {""}
    assert {"London", "San Diego", "Linköping", "Milton", "Changchun"} <= cities
    agents = " ".join(ua for _, ua in people)
    assert all(word in agents for word in ("iPhone", "Android", "Windows", "Macintosh", "iPad"))
    kinds = Counter(e["type"] for b in month for e in b.events)
    assert kinds["pageview"] > kinds["event"] > kinds["error"] > 0 and kinds["vital"] > 0
    # Every page view but the last of a visit that never left it reports its engagement.
    assert 0.8 * kinds["pageview"] < kinds["engagement"] <= kinds["pageview"]
    names = Counter(e["name"] for b in month for e in b.events if e["type"] == "event")
    assert {"signup", "pricing_toggle", "copy_snippet", "cta_click"} <= set(names)
    assert {"Outbound Link: Click", "File Download", "404"} <= set(names)
    vitals = {
        (urlsplit(e["url"]).path, e["name"])
        for b in month
        for e in b.events
        if e["type"] == "vital"
    }
    assert {("/", "LCP"), ("/pricing", "INP"), ("/docs", "TTFB")} <= vitals
