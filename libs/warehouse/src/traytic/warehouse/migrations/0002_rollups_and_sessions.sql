-- What makes the stats fast at tens of millions of events (see traytic.warehouse.stats.plan):
-- rollups that materialized views fill as events are inserted, and a sessions table the consumer
-- maintains. Every plain column of an AggregatingMergeTree is in its key (chDB 26 requires it),
-- and each table is partitioned by month like `events`, so retention drops partitions alike.
-- `Warehouse.migrate` backfills the new tables from what `events` already holds (see base.py).

-- Visitors, pageviews and custom events per site and quarter hour. Every period boundary is a
-- local midnight or hour, and every time zone's offset is a multiple of 15 minutes, so overview
-- and timeseries answers in any zone are sums of whole quarters: a few thousand rows per month.
CREATE TABLE IF NOT EXISTS traffic_quarters
(
    site_id String,
    quarter DateTime('UTC'),
    visitors AggregateFunction(uniqCombined(14), UInt64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(quarter)
ORDER BY (site_id, quarter);

CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_quarters_mv TO traffic_quarters AS
SELECT
    site_id,
    toStartOfFifteenMinutes(ts) AS quarter,
    uniqCombinedState(14)(visitor_id) AS visitors,
    sumState(toUInt64(type = 'pageview')) AS pageviews,
    sumState(toUInt64(type = 'event')) AS events
FROM events
WHERE type IN ('pageview', 'event')
GROUP BY site_id, quarter;

-- The same per hour: a quarter of the rows, for every range whose buckets start on whole UTC
-- hours (zones with whole-hour offsets, i.e. most of them); merging fewer distinct-count states
-- is what makes the overview fast.
CREATE TABLE IF NOT EXISTS traffic_hours
(
    site_id String,
    hour DateTime('UTC'),
    visitors AggregateFunction(uniqCombined(14), UInt64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (site_id, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_hours_mv TO traffic_hours AS
SELECT
    site_id,
    toStartOfHour(ts) AS hour,
    uniqCombinedState(14)(visitor_id) AS visitors,
    sumState(toUInt64(type = 'pageview')) AS pageviews,
    sumState(toUInt64(type = 'event')) AS events
FROM events
WHERE type IN ('pageview', 'event')
GROUP BY site_id, hour;

-- Each breakdown dimension per site and UTC day: visitors, visits and pageviews of a value (and
-- its parent: a region's country, a browser version's browser). Pages count pageviews only; the
-- other dimensions pageviews and custom events, as the raw queries do.
CREATE TABLE IF NOT EXISTS daily_stats
(
    site_id String,
    dimension String,
    day Date,
    value String,
    parent String,
    visitors AggregateFunction(uniqCombined(14), UInt64),
    visits AggregateFunction(uniqCombined(14), UInt64),
    pageviews AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (site_id, dimension, day, value, parent);

CREATE MATERIALIZED VIEW IF NOT EXISTS daily_stats_mv TO daily_stats AS
SELECT
    site_id,
    tupleElement(dim, 1) AS dimension,
    toDate(ts) AS day,
    tupleElement(dim, 2) AS value,
    tupleElement(dim, 3) AS parent,
    uniqCombinedState(14)(visitor_id) AS visitors,
    uniqCombinedState(14)(session_id) AS visits,
    sumState(toUInt64(type = 'pageview')) AS pageviews
FROM events
ARRAY JOIN [
    ('referrer_source', referrer_source, ''),
    ('referrer', referrer, ''),
    ('channel', channel, ''),
    ('utm_source', utm_source, ''),
    ('utm_medium', utm_medium, ''),
    ('utm_campaign', utm_campaign, ''),
    ('utm_term', utm_term, ''),
    ('utm_content', utm_content, ''),
    ('country', country, ''),
    ('region', region, country),
    ('city', city, country),
    ('device', device, ''),
    ('browser', browser, ''),
    ('browser_version', browser_version, browser),
    ('os', os, ''),
    ('os_version', os_version, os),
    ('screen', screen, '')
] AS dim
WHERE type IN ('pageview', 'event')
GROUP BY site_id, dimension, day, value, parent;

CREATE MATERIALIZED VIEW IF NOT EXISTS daily_pages_mv TO daily_stats AS
SELECT
    site_id,
    'pathname' AS dimension,
    toDate(ts) AS day,
    pathname AS value,
    '' AS parent,
    uniqCombinedState(14)(visitor_id) AS visitors,
    uniqCombinedState(14)(session_id) AS visits,
    sumState(toUInt64(1)) AS pageviews
FROM events
WHERE type = 'pageview'
GROUP BY site_id, dimension, day, value, parent;

-- The last days' traffic events again, sorted by visit: rewriting a visit's row reads just its
-- events by primary key, not every event of the site since the visit began (at 30k events/s an
-- hour of them). Partitioned by day; the consumer drops partitions older than a few days.
CREATE TABLE IF NOT EXISTS session_events
(
    site_id String,
    session_id UInt64,
    ts DateTime('UTC'),
    event_id UInt64,
    type Enum8('pageview' = 1, 'event' = 2, 'vital' = 3, 'error' = 4),
    visitor_id UInt64,
    pathname String,
    hostname String,
    referrer String,
    referrer_source String,
    channel String,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_term String,
    utm_content String,
    country String,
    region String,
    city String,
    browser String,
    os String,
    device String,
    screen String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (site_id, session_id, ts, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS session_events_mv TO session_events AS
SELECT
    site_id, session_id, ts, event_id, type, visitor_id, pathname, hostname, referrer,
    referrer_source, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
    country, region, city, browser, os, device, screen
FROM events
WHERE type IN ('pageview', 'event') AND ts >= now() - 259200;

-- One row per visit, rewritten by the consumer from `events` after each insert (the newest
-- `version`, its count of events, wins). `started` comes from the consumer's session state and
-- never changes, so a visit keeps its key; attributes are those of its first event.
CREATE TABLE IF NOT EXISTS sessions
(
    site_id String,
    started DateTime('UTC'),
    session_id UInt64,
    visitor_id UInt64,
    first_ts DateTime('UTC'),
    last_ts DateTime('UTC'),
    pageviews UInt32,
    events UInt32,
    entry_page String,
    exit_page String,
    hostname String,
    referrer String,
    referrer_source String,
    channel String,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_term String,
    utm_content String,
    country String,
    region String,
    city String,
    browser String,
    os String,
    device String,
    screen String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started)
ORDER BY (site_id, toDate(started), session_id)
