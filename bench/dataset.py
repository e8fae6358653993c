"""A large, session-shaped dataset generated inside ClickHouse (`INSERT ... SELECT FROM numbers`),
so 10M events take seconds rather than the minutes and gigabytes of Python rows. The same SQL
runs on chDB and on the 18.16 server.

Sessions of 1-8 events (about 4 on average, a quarter of them bounces) spread over `days`;
each session has one visitor (about two sessions per visitor), one source, place and device;
pages, countries and sources are skewed so top-N lists look like real ones; signups carry
revenue in three currencies. A tenth of the rows go to noise sites.
"""

from __future__ import annotations

from traytic.warehouse import Warehouse, sessions

EVENTS_PER_SLOT = 8
MEAN_EVENTS_PER_SESSION = 4.0
CHUNK_SLOTS = 1_000_000
"""numbers() rows per INSERT: bounds the engine's memory per statement."""
_COLUMNS = (
    "site_id, ts, type, name, event_id, visitor_id, session_id, hostname, pathname, referrer,"
    " referrer_source, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content,"
    " country, region, city, browser, browser_version, os, os_version, device, screen, language,"
    " `props.key`, `props.value`, value, revenue_micros, revenue_currency"
)
"""Named so that columns added by later migrations (engagement, ...) take their defaults."""

_COUNTRIES = "['US','US','US','DE','DE','GB','GB','FR','NG','NG','IN','IN','BR','CA','JP','KE','ZA','NL','ES','IT']"
_CITIES = "['New York','Berlin','London','Paris','Lagos','Mumbai','Sao Paulo','Toronto','Tokyo','Nairobi']"
_SOURCES = "['','','','Google','Google','Google','Hacker News','Twitter','Reddit','DuckDuckGo','Bing','GitHub']"
_CHANNELS = "['Direct','Direct','Direct','Organic Search','Organic Search','Organic Search','Referral','Organic Social','Organic Social','Organic Search','Organic Search','Referral']"
_BROWSERS = "['Chrome','Chrome','Chrome','Safari','Safari','Firefox','Edge','Samsung Internet']"
_OSES = "['Windows','macOS','iOS','Android','Linux','Windows','iOS','Android']"
_DEVICES = "['desktop','desktop','mobile','mobile','desktop','desktop','mobile','tablet']"
_SCREENS = "['desktop','laptop','mobile','mobile','desktop','laptop','mobile','tablet']"
_VITALS = "['LCP','INP','CLS','FCP','TTFB']"
_EVENTS = "['signup','download','click','share']"


def _select(site_id: str, first_slot: int, slots: int, end_ts: int, days: int) -> str:
    span = days * 86400
    # s: the session slot; k: the event's place in it; h(x): a stable hash of the slot.
    return f"""
SELECT
    if(cityHash64(s, 7) % 10 = 0, concat('st_noise', toString(cityHash64(s, 8) % 4)), '{site_id}')
        AS site_id,
    toDateTime({end_ts - span} + cityHash64(s, 2) % {span} + k * 40) AS ts,
    if(k = 0 OR r % 20 < 12, 'pageview', if(r % 20 < 15, 'event', 'vital')) AS type,
    multiIf(type = 'event', arrayElement({_EVENTS}, r % 4 + 1),
            type = 'vital', arrayElement({_VITALS}, r % 5 + 1), '') AS name,
    cityHash64(number, 9) AS event_id,
    cityHash64(intDiv(s, 2), 1) AS visitor_id,
    cityHash64(s, 3) AS session_id,
    'example.com' AS hostname,
    concat('/p/', toString(intDiv((r % 1000) * (r % 1000), 2000))) AS pathname,
    if(src = '', '', concat('https://', lower(src), '.example/')) AS referrer,
    src AS referrer_source,
    arrayElement({_CHANNELS}, si) AS channel,
    if(cityHash64(s, 5) % 10 = 0, 'newsletter', '') AS utm_source,
    if(utm_source = '', '', 'email') AS utm_medium,
    if(utm_source = '', '', concat('issue-', toString(cityHash64(s, 6) % 12))) AS utm_campaign,
    '' AS utm_term,
    '' AS utm_content,
    arrayElement({_COUNTRIES}, ci) AS country,
    concat('R', toString(ci % 5)) AS region,
    arrayElement({_CITIES}, ci % 10 + 1) AS city,
    arrayElement({_BROWSERS}, di) AS browser,
    toString(100 + cityHash64(s, 10) % 30) AS browser_version,
    arrayElement({_OSES}, di) AS os,
    toString(10 + cityHash64(s, 11) % 8) AS os_version,
    arrayElement({_DEVICES}, di) AS device,
    arrayElement({_SCREENS}, di) AS screen,
    'en-US' AS language,
    if(type = 'event', ['plan'], emptyArrayString()) AS `props.key`,
    if(type = 'event', [arrayElement(['free','pro','team'], r % 3 + 1)], emptyArrayString())
        AS `props.value`,
    if(type = 'vital', toFloat64(if(name = 'CLS', (r % 400) / 1000, r % 5000)), 0.) AS value,
    if(type = 'event' AND name = 'signup', toInt64((r % 100 + 1) * 1000000), toInt64(0))
        AS revenue_micros,
    if(revenue_micros > 0, arrayElement(['USD','EUR','NGN'], r % 3 + 1), '') AS revenue_currency
FROM (
    SELECT number, intDiv(number, {EVENTS_PER_SLOT}) AS s, number % {EVENTS_PER_SLOT} AS k,
        cityHash64(number, 4) AS r,
        intDiv((cityHash64(s, 12) % 12) * (cityHash64(s, 12) % 12), 12) + 1 AS si,
        arrayElement({_SOURCES}, si) AS src,
        intDiv((cityHash64(s, 13) % 20) * (cityHash64(s, 13) % 20), 20) + 1 AS ci,
        cityHash64(s, 14) % 8 + 1 AS di
    FROM numbers({first_slot * EVENTS_PER_SLOT}, {slots * EVENTS_PER_SLOT})
)
WHERE k < if(cityHash64(s, 15) % 4 = 0, 1, 2 + cityHash64(s, 15) % 7)
"""


EVENTS_PER_BACKFILL_PART = 12_500_000
BACKFILL_MEMORY = 6_000_000_000
"""Bytes a backfill statement may use (the test server allows 2 GB a query). Every part scans
all the events, so fewer, larger parts: at 100M events 50 parts of 2M took over an hour on two
cores, 8 parts need ~2 GB each (one failed at the 2 GB cap)."""


async def generate(
    warehouse: Warehouse, *, site_id: str, events: int, end_ts: int, days: int = 30
) -> int:
    """Insert about `events` rows (all sites) ending at `end_ts`; returns the site's row count."""
    slots = int(events / MEAN_EVENTS_PER_SESSION)
    for first in range(0, slots, CHUNK_SLOTS):
        count = min(CHUNK_SLOTS, slots - first)
        await warehouse.execute(
            f"INSERT INTO events ({_COLUMNS}) " + _select(site_id, first, count, end_ts, days)
        )
    # The consumer writes a visit's row after each insert; generated events get theirs at once.
    # A part groups its share of the visits in memory.
    for statement in sessions.backfill(parts=max(8, -(-events // EVENTS_PER_BACKFILL_PART))):
        await warehouse.execute(f"{statement.sql} SETTINGS max_memory_usage = {BACKFILL_MEMORY}")
    rows = await warehouse.query(
        "SELECT count() AS n FROM events WHERE site_id = {site:String}", {"site": site_id}
    )
    return int(rows[0]["n"])
