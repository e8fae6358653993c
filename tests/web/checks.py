"""What the tests check on a dashboard page: the KPI cards and every panel show the API's numbers."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.web.conftest import Dev

KPIS = (
    "visitors", "visits", "pageviews", "viewsPerVisit", "bounceRate", "visitDuration",
    "engagedTime",
)  # fmt: skip

# Each panel's first tab: the report and its list.
PANELS = {
    "pages": "pages",
    "sources": "sources",
    "countries": "countries",
    "devices": "devices",
    "events": "events",
}


def js_number(value: float) -> str:
    """How JavaScript's String() writes a JSON number (shortest round-trip, no trailing .0)."""
    return str(int(value)) if float(value).is_integer() else repr(value)


async def expect_kpis(page: Page, overview: dict[str, Any]) -> None:
    for key in KPIS:
        value = page.locator(f'[data-kpi="{key}"] .kpi-value')
        await expect(value).to_have_attribute("data-value", js_number(overview[key]["value"]))


async def expect_panels(page: Page, dev: Dev, query: str) -> None:
    """Every panel shows the visitors the API answers for the same query (custom events: each
    event's visitors and events; `expect_props` checks their props)."""
    for report, field in PANELS.items():
        rows = dev.stats(report, f"{query}&limit=10")[field]
        if report == "events":
            buttons = page.locator('[data-panel="events"] .event-line .row')
            await expect(buttons).to_have_count(len(rows))
            for i, row in enumerate(rows):
                await expect(buttons.nth(i)).to_have_attribute("data-count", str(row["visitors"]))
                await expect(buttons.nth(i)).to_have_attribute("data-events", str(row["events"]))
            continue
        buttons = page.locator(f'[data-panel="{report}"] .row')
        await expect(buttons).to_have_count(len(rows))
        for i, row in enumerate(rows):
            await expect(buttons.nth(i)).to_have_attribute("data-count", str(row["visitors"]))


async def expect_props(page: Page, event: str, props: dict[str, tuple[int, int]]) -> None:
    """One custom event's props, opened: `key:value` -> (visitors, events)."""
    item = page.locator(f'[data-panel="events"] li.event[data-event="{event}"]')
    toggle = item.get_by_role("button", name=f"Properties of {event}")
    if await toggle.get_attribute("aria-expanded") != "true":
        await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    rows = item.locator(".row.prop")
    await expect(rows).to_have_count(len(props))
    for kv, (visitors, events) in props.items():
        row = item.locator(f'.row.prop[data-prop="{kv}"]')
        await expect(row).to_have_attribute("data-count", str(visitors))
        await expect(row).to_have_attribute("data-events", str(events))
