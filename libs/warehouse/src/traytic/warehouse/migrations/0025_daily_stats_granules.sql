-- `daily_stats` in granules of 64 rows (issue 16). A breakdown reads a few rows per (dimension,
-- day) and merges their distinct-count states; in the default granules of 8192 rows it read and
-- decoded every dimension's states of the site around them (measured at 1.8M events: devices'
-- states 204 -> 140 ms on 18.16, 127 -> 103 ms on chDB). No ALTER changes the granularity of a
-- table that holds rows, so the runner copies the table into this one month by month and swaps
-- the two (traytic.warehouse.rebuild), the views that write to it made again.
CREATE TABLE IF NOT EXISTS daily_stats_small_granules AS daily_stats
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (site_id, dimension, day, value, parent)
SETTINGS index_granularity = 64
