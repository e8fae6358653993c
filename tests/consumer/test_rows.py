"""The row builder, pure: every column from the beacon and its event, stable event ids, and
the visits the rows belong to."""

from __future__ import annotations

import pytest

from tests.consumer.conftest import CHROME_WINDOWS, SAFARI_IPHONE, beacon
from traytic.consumer.enrich.visitor import event_id
from traytic.consumer.enricher import Enricher
from traytic.consumer.identify import Identified
from traytic.consumer.rows import MAX_ERROR_MESSAGE, build_rows
from traytic.core.events import CustomEvent, Engagement, ErrorEvent, Pageview, Vital

NOON = 1_767_268_800


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    from tests.consumer.conftest import CITY_DB

    return Enricher(str(CITY_DB))


def test_each_event_becomes_one_row_with_its_beacons_facts(enricher: Enricher) -> None:
    sent = beacon(
        [
            Pageview(
                url="https://www.example.com/blog/?utm_source=news&utm_medium=email&x=1",
                referrer="https://www.google.com/search?q=secret",
            ),
            CustomEvent(name="signup", url="https://example.com/", props={"n": 3, "ok": True}),
            Vital(name="LCP", value=1830.5, url="https://example.com/blog"),
            ErrorEvent(message="E" * 5000, url="https://example.com/", source="https://x/a.js:1:2"),
            Pageview(url="https://example.com/next", referrer="https://example.com/blog"),
            Engagement(url="https://example.com/blog?x=1", engaged_ms=41_250, scroll_depth=87),
        ],
        at=NOON + 0.7,
        ip="81.2.69.142",
        ua=CHROME_WINDOWS,
        language="en-GB,en;q=0.9",
        screen=1280,
    )
    built = build_rows([Identified("m1", 2, sent, 11, 22, NOON - 60)], enricher)
    pageview, custom, vital, error, navigation, engagement = built.rows
    assert built.visits == {("st_test", 22): NOON - 60}
    for index, row in enumerate(built.rows):
        assert (row.site_id, row.ts, row.visitor_id, row.session_id) == ("st_test", NOON, 11, 22)
        assert row.event_id == event_id("m1", 2, index)  # the same for a redelivery
        assert (row.country, row.region, row.city) == ("GB", "ENG", "London")
        assert (row.browser, row.os, row.device) == ("Chrome", "Windows", "desktop")
        assert (row.screen, row.language) == ("laptop", "en-GB")
    assert (pageview.type, pageview.hostname, pageview.pathname) == (
        "pageview",
        "example.com",
        "/blog",
    )
    assert (pageview.utm_source, pageview.utm_medium, pageview.channel) == (
        "news",
        "email",
        "Email",
    )
    assert pageview.referrer == "https://www.google.com/search"
    assert (custom.type, custom.name, custom.props_key, custom.props_value) == (
        "event",
        "signup",
        ["n", "ok"],
        ["3", "true"],
    )
    assert custom.referrer == "" and custom.channel == ""  # only pageviews carry a referral
    assert (vital.type, vital.name, vital.value) == ("vital", "LCP", 1830.5)
    assert error.type == "error" and error.name == "E" * MAX_ERROR_MESSAGE
    assert error.error_source == "https://x/a.js:1:2"
    # Engagement is a vital-like row of its page (migration 0015 says why).
    assert (engagement.type, engagement.name, engagement.pathname) == (
        "vital",
        "engagement",
        "/blog",
    )
    assert (engagement.engaged_ms, engagement.scroll_depth, engagement.value) == (41_250, 87, 0.0)
    # A navigation inside the site is no referral at all, as for other event types.
    assert (navigation.referrer, navigation.referrer_source, navigation.channel) == ("", "", "")


def test_visits_are_listed_once_each(enricher: Enricher) -> None:
    page = [Pageview(url="https://example.com/")]
    built = build_rows(
        [
            Identified("m", 0, beacon(page, at=NOON), 1, 10, NOON),
            Identified("m", 1, beacon(page, at=NOON + 5), 1, 10, NOON),
            Identified(
                "m", 2, beacon(page, at=NOON, ua=SAFARI_IPHONE, site_id="st_b"), 2, 20, NOON
            ),
        ],
        enricher,
    )
    assert len(built.rows) == 3
    assert built.visits == {("st_test", 10): NOON, ("st_b", 20): NOON}
    assert build_rows([], enricher)[:2] == ([], {})
