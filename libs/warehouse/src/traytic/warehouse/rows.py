"""The row of the `events` table, as the consumer produces it and the backends insert it.

Field order is column order (the Struct is `array_like`, so msgspec encodes a row straight into
a compact JSON array). No field holds a raw IP or a full user agent: only what was derived.
"""

from __future__ import annotations

import msgspec

EVENT_TYPES = ("pageview", "event", "vital", "error")
ENGAGEMENT = "engagement"
"""The `name` of the `vital` rows that hold a page's engaged time and scroll depth (the
tracker's `engagement` events; migration 0015 says why they are not a type of their own)."""


class EventRow(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One row of `events`; `gc=False` since rows hold no cycles and are made by the 100k.

    Positional arguments follow the column order: the consumer builds rows that way, several
    times faster than by keyword (30 fields)."""

    site_id: str
    ts: int
    """Unix seconds (UTC) when the gateway received the beacon."""
    type: str
    """One of `EVENT_TYPES`."""
    name: str
    """Custom event name, vital name (`LCP`...), or the error message; empty for pageviews."""
    event_id: int
    """UInt64, stable across redeliveries: dedupes a message inserted twice."""
    visitor_id: int
    """UInt64 keyed hash of (daily salt, site, IP, UA): not reversible, changes every day."""
    session_id: int
    hostname: str
    pathname: str
    referrer: str
    """Referrer without query string or fragment; empty when direct or same-site."""
    referrer_source: str
    """`Google`, `Hacker News`... or the referrer's host; empty for direct."""
    channel: str
    """`Direct`, `Organic Search`, `Organic Social`, `Referral`, `Email`, `Paid`..."""
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    country: str
    """ISO 3166-1 alpha-2, empty when unknown."""
    region: str
    """ISO 3166-2 subdivision code without the country (`ENG`), empty when unknown."""
    city: str
    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str
    """`desktop`, `mobile`, `tablet` (from the user agent)."""
    screen: str
    """Screen class from the viewport width: `mobile`, `tablet`, `laptop`, `desktop`, or empty."""
    language: str
    """Primary language tag from Accept-Language, e.g. `en-US`."""
    props_key: list[str]
    props_value: list[str]
    value: float
    """The vital's value; 0 for other types."""
    revenue_micros: int = 0
    """Revenue a custom event carried, in millionths of `revenue_currency` (0: none)."""
    revenue_currency: str = ""
    """Its ISO 4217 code, upper case; empty when the event carried no revenue."""
    engaged_ms: int = 0
    """Engagement rows (type `vital`, name `ENGAGEMENT`): visible, active milliseconds."""
    scroll_depth: int = 0
    """Engagement rows: the deepest point reached, percent of the page's height (0 to 100)."""
    error_source: str = ""
    """Error rows: the script and line it was thrown at (no query string, no stack)."""


COLUMNS: tuple[str, ...] = tuple(
    "props.key" if f == "props_key" else "props.value" if f == "props_value" else f
    for f in EventRow.__struct_fields__
)
"""Table column names in row order (`props` is a Nested column of two arrays)."""
