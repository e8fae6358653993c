-- `sessions` with the sampling key of `events` (issue 16). Past the configured number of events
-- a report reads its visit figures (visits, bounces, duration, entry and exit pages) from
-- `sessions FINAL SAMPLE r` and scales them, as the raw reads do: at 100M events a month holds
-- some 22M visits, too many to scan for every dashboard. The key is the visitor, as for
-- `events`, so a sample of both tables holds the same visitors. Every event of a visit has the
-- same visitor (the consumer keeps sessions per visitor), so each version of a visit's row has
-- the same key and `FINAL` still keeps one row per visit. The runner copies
-- the table month by month and swaps the two (traytic.warehouse.rebuild), as for 0005.
CREATE TABLE IF NOT EXISTS sessions_sampled AS sessions
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started)
ORDER BY (site_id, toDate(started), visitor_id, session_id)
SAMPLE BY visitor_id
