-- `events` with a sampling key (issue 16): a report over more rows than the configured limit
-- reads `SAMPLE` of them and scales its counts (traytic.warehouse.stats.sampling). The key is
-- the visitor, as Plausible's: a sampled visitor comes with all their visits and events, so
-- visitors, visits, bounces and pageviews scale alike. SAMPLE BY must be part of the sorting
-- key, and no ALTER adds it on 18.16: the runner copies the table into this one month by month
-- and swaps the two (traytic.warehouse.rebuild: resumable, the rollup views made again).
-- Rows stay deduplicated by event id: an event's visitor never changes.
CREATE TABLE IF NOT EXISTS events_sampled AS events
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, toDate(ts), visitor_id, event_id)
SAMPLE BY visitor_id
