"""Beacon → row on both engines: every enriched column, bots dropped, nothing personal stored."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest

from tests.consumer.conftest import (
    CHROME_WINDOWS,
    EDGE_WINDOWS,
    FIREFOX_LINUX,
    GOOGLEBOT,
    HEADLESS,
    SAFARI_IPHONE,
    Harness,
    beacon,
)
from traytic.core import bus
from traytic.core.events import LIVE_DECODER, CustomEvent, ErrorEvent, LiveBatch, Pageview, Vital


async def test_every_enriched_column(harness: Harness) -> None:
    await harness.start_consumer()
    await harness.publisher.publish(
        [
            beacon(
                [
                    Pageview(
                        url="https://www.example.com/blog/hello/?utm_source=newsletter&utm_medium=email&utm_campaign=launch&ref=secret#top",
                        referrer="https://www.google.com/search?q=private+words",
                    ),
                    CustomEvent(
                        name="signup",
                        url="https://example.com/pricing",
                        props={"plan": "pro", "seats": 3, "trial": True},
                    ),
                    Vital(name="LCP", value=1830.5, url="https://example.com/blog/hello"),
                    ErrorEvent(message="TypeError: x is undefined", url="https://example.com/"),
                ],
                ip="81.2.69.142",
                ua=CHROME_WINDOWS,
                language="en-GB,en;q=0.9",
                screen=1280,
            ),
            beacon(
                [
                    Pageview(
                        url="https://example.com/",
                        referrer="https://news.ycombinator.com/item?id=1",
                    )
                ],
                ip="216.160.83.56",
                ua=SAFARI_IPHONE,
                screen=390,
            ),
            beacon(
                [Pageview(url="https://example.com/docs", referrer="https://example.com/")],
                ip="89.160.20.112",
                ua=FIREFOX_LINUX,
                language="sv-SE",
                screen=1100,
            ),
            beacon(
                [Pageview(url="https://example.com/")],
                ip="2001:218::1",
                ua=EDGE_WINDOWS,
                screen=None,
            ),
        ]
    )
    await harness.wait_for_rows(7)
    rows = await harness.rows()
    by_type = {r["type"]: r for r in rows if r["browser"] == "Chrome"}

    pageview = by_type["pageview"]
    assert (pageview["hostname"], pageview["pathname"]) == ("example.com", "/blog/hello")
    assert (
        pageview["referrer"] == "https://www.google.com/search"
    )  # no query: it can carry search terms
    assert (pageview["utm_source"], pageview["utm_medium"], pageview["utm_campaign"]) == (
        "newsletter",
        "email",
        "launch",
    )
    assert pageview["channel"] == "Email"  # the campaign names the channel
    assert (pageview["country"], pageview["region"], pageview["city"]) == ("GB", "ENG", "London")
    assert (pageview["os"], pageview["device"], pageview["screen"], pageview["language"]) == (
        "Windows",
        "desktop",
        "laptop",
        "en-GB",
    )
    assert pageview["browser_version"].startswith("131")

    event = by_type["event"]
    assert event["name"] == "signup"
    assert dict(zip(event["props.key"], event["props.value"], strict=True)) == {
        "plan": "pro",
        "seats": "3",
        "trial": "true",
    }
    assert by_type["vital"]["name"] == "LCP"
    assert by_type["vital"]["value"] == pytest.approx(1830.5)
    assert by_type["error"]["name"].startswith("TypeError")
    # One visitor, one session, for every event of the beacon.
    assert len({(r["visitor_id"], r["session_id"]) for r in by_type.values()}) == 1
    assert len({r["event_id"] for r in rows}) == len(rows)

    safari = next(r for r in rows if r["browser"] == "Safari")
    assert (safari["os"], safari["device"], safari["screen"]) == ("iOS", "mobile", "mobile")
    assert (safari["country"], safari["region"], safari["city"]) == ("US", "WA", "Milton")
    assert (safari["referrer_source"], safari["channel"]) == ("Hacker News", "Organic Social")

    firefox = next(r for r in rows if r["browser"] == "Firefox")
    assert (firefox["os"], firefox["country"], firefox["city"], firefox["language"]) == (
        "Linux",
        "SE",
        "Linköping",
        "sv-SE",
    )
    assert firefox["referrer"] == "" and firefox["referrer_source"] == ""  # same-site navigation

    edge = next(r for r in rows if r["browser"] == "Edge")
    assert (edge["country"], edge["region"], edge["screen"], edge["channel"]) == (
        "JP",
        "",
        "",
        "Direct",
    )
    assert len({r["visitor_id"] for r in rows}) == 4


async def test_bots_and_spam_are_dropped_and_counted(harness: Harness) -> None:
    consumer = await harness.start_consumer()
    page = [Pageview(url="https://example.com/")]
    await harness.publisher.publish(
        [
            beacon(page, ua=GOOGLEBOT),
            beacon(page, ua=HEADLESS),
            beacon(page, ua=""),
            beacon([Pageview(url="https://example.com/", referrer="https://semalt.com/")]),
            beacon(page, ua=CHROME_WINDOWS),
        ]
    )
    await harness.wait_for_rows(1)
    rows = await harness.rows()
    assert len(rows) == 1 and rows[0]["browser"] == "Chrome"
    assert dict(consumer.metrics.dropped) == {
        "crawler": 1,
        "headless": 1,
        "empty_ua": 1,
        "referrer_spam": 1,
    }


async def test_nothing_personal_in_rows_logs_or_live_messages(
    harness: Harness, bus_settings: bus.BusSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    from traytic.core.logging import configure_logging

    configure_logging("debug", "json")
    live: list[LiveBatch] = []

    async def on_live(message: object) -> None:
        live.append(LIVE_DECODER.decode(message.data))  # type: ignore[attr-defined]

    subscription = await harness.nc.subscribe(
        bus.live_subject(bus_settings.namespace, "*"), cb=on_live
    )
    ips = ["81.2.69.142", "2.125.160.216", "2001:218::1"]
    uas = [CHROME_WINDOWS, SAFARI_IPHONE, FIREFOX_LINUX, GOOGLEBOT]
    await harness.start_consumer()
    await harness.publisher.publish(
        [
            beacon([Pageview(url="https://example.com/p", referrer="https://t.co/x")], ip=ip, ua=ua)
            for ip in ips
            for ua in uas
        ]
    )
    await harness.wait_for_rows(len(ips) * 3)
    # Live messages follow the insert and the ack: wait for them rather than for a fixed time,
    # which a loaded machine can outlast.
    deadline = asyncio.get_running_loop().time() + 15
    while sum(len(b.events) for b in live) < len(ips) * 3:
        assert asyncio.get_running_loop().time() < deadline, "live messages did not arrive"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # and nothing more than those arrives
    await subscription.unsubscribe()
    await harness.stop_all()

    stored = json.dumps(await harness.rows(), default=str)
    logs = capsys.readouterr().err
    published = msgspec.json.encode(live).decode()
    assert sum(len(b.events) for b in live) == len(ips) * 3
    for haystack in (stored, logs, published):
        for secret in [*ips, *uas, "2.125.160.216"]:
            assert secret not in haystack
    assert "Mozilla/5.0" not in stored + logs + published


async def test_undecodable_message_is_dead_lettered(
    harness: Harness, bus_settings: bus.BusSettings
) -> None:
    names = bus.names(bus_settings.namespace)
    js = harness.nc.jetstream()
    consumer = await harness.start_consumer()
    await bus.publish_with_id(js, names.events_subject, b"\x93not msgpack of a batch", "broken-1")
    await harness.publisher.publish([beacon([Pageview(url="https://example.com/")])])
    await harness.wait_for_rows(1)
    for _ in range(100):
        if consumer.metrics.dead_lettered:
            break
        await asyncio.sleep(0.1)
    assert consumer.metrics.dead_lettered == 1
    dead = await js.get_last_msg(names.dead_letter_stream, names.dead_letter_subject)
    assert dead.data == b"\x93not msgpack of a batch"
    assert "undecodable" in (dead.headers or {}).get("Traytic-Reason", "")
    info = await js.stream_info(names.stream)
    assert info.state.messages == 0  # nothing left behind, nothing stuck
