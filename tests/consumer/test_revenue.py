"""Revenue from the beacon to the `events` row, on both engines: the amount in millionths of its
currency as sent, the code upper-cased; events without revenue get 0 and ''."""

from __future__ import annotations

from tests.consumer.conftest import CHROME_WINDOWS, Harness, beacon
from traytic.core.events import CustomEvent, Pageview, Revenue


async def test_revenue_is_stored_as_sent(harness: Harness) -> None:
    await harness.start_consumer()
    url = "https://shop.example/checkout"
    await harness.publisher.publish(
        [
            beacon(
                [
                    Pageview(url=url),
                    CustomEvent(name="purchase", url=url, revenue=Revenue(29.99, "EUR")),
                    CustomEvent(name="purchase", url=url, revenue=Revenue("14900.5", "ngn")),
                    CustomEvent(name="purchase", url=url, revenue=Revenue(0.1 + 0.2, "USD")),
                    CustomEvent(name="signup", url=url, props={"plan": "pro"}),
                ],
                ip="81.2.69.142",
                ua=CHROME_WINDOWS,
            )
        ]
    )
    await harness.wait_for_rows(5)
    rows = await harness.rows()
    stored = sorted(
        (row["type"], row["name"], row["revenue_micros"], row["revenue_currency"]) for row in rows
    )
    assert stored == [
        ("event", "purchase", 300_000, "USD"),
        ("event", "purchase", 29_990_000, "EUR"),
        ("event", "purchase", 14_900_500_000, "NGN"),
        ("event", "signup", 0, ""),
        ("pageview", "", 0, ""),
    ]
