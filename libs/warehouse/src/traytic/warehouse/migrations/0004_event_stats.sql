-- Custom events (with their props) and Web Vitals per site and UTC day (issue 16): the events
-- and vitals reports read these few thousand rows instead of every event of the range. One
-- wide view for both kinds, since each view on `events` costs insert throughput.
--
-- `level` 0 holds a name's totals, `level` 1 its breakdown: a custom event's props (one row
-- per key and value it carried), a vital's routes (`route`). `good` and `poor` count vitals at or
-- below the good bound and above the poor bound of `stats.service.VITAL_THRESHOLDS` (web.dev's;
-- a test holds the two equal). `quantiles` is a t-digest: small, mergeable across days and
-- routes, on 18.16 as on chDB; the service uses it only past the count where the raw
-- `quantiles` itself turns to an estimate (see `stats.plan.VITALS_EXACT_UP_TO`).
CREATE TABLE IF NOT EXISTS event_stats
(
    site_id String,
    type Enum8('pageview' = 1, 'event' = 2, 'vital' = 3, 'error' = 4),
    day Date,
    name String,
    level UInt8,
    route String,
    prop_key String,
    prop_value String,
    events AggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniqCombined(14), UInt64),
    good AggregateFunction(sum, UInt64),
    poor AggregateFunction(sum, UInt64),
    quantiles AggregateFunction(quantilesTDigest(0.75, 0.95), Float64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (site_id, type, day, name, level, route, prop_key, prop_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS event_stats_mv TO event_stats AS
SELECT
    site_id,
    type,
    toDate(ts) AS day,
    name,
    toUInt8(part > 0) AS level,
    if(type = 'vital' AND part > 0, pathname, '') AS route,
    if(type = 'event' AND part > 0, props.key[part], '') AS prop_key,
    if(type = 'event' AND part > 0, props.value[part], '') AS prop_value,
    sumState(toUInt64(1)) AS events,
    uniqCombinedState(14)(visitor_id) AS visitors,
    sumState(toUInt64(value <= transform(name, ['LCP', 'INP', 'CLS', 'FCP', 'TTFB'],
        [2500., 200., 0.1, 1800., 800.], 0.))) AS good,
    sumState(toUInt64(value > transform(name, ['LCP', 'INP', 'CLS', 'FCP', 'TTFB'],
        [4000., 500., 0.25, 3000., 1800.], 0.))) AS poor,
    quantilesTDigestState(0.75, 0.95)(value) AS quantiles
FROM events
ARRAY JOIN if(type = 'event', arrayConcat([0], arrayEnumerate(props.key)), [0, 1]) AS part
WHERE type IN ('event', 'vital')
GROUP BY site_id, type, day, name, level, route, prop_key, prop_value
