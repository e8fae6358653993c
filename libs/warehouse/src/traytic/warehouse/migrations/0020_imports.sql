-- Imported history (issue 19): daily figures from the tools people leave (Plausible, Umami,
-- Google Analytics 4), kept apart from native events so reports add them only when asked
-- (`imported=true`) and an import can be replaced or removed without touching `events`.
--
-- One row per (import run, dimension, day, value): the shape of Plausible's imported_* tables
-- folded into one table, as `daily_stats` folds the native breakdowns. `dimension` is a
-- `daily_stats` dimension (`pathname`, `referrer_source`, `country`, `region`, `browser`...),
-- `entry_page` / `exit_page`, or `visitors` for the site's daily totals (Plausible's
-- imported_visitors). Figures are sums over the day, as the source tool counted them:
-- `visit_duration` is the visits' summed seconds, `bounces` the visits of one pageview.
-- Rows of a run are read only once the run is recorded `done` in `imports` (below), and only
-- the newest finished run of an import counts: importing again replaces without a gap and
-- without counting twice, even before the older run's rows are deleted.
CREATE TABLE IF NOT EXISTS imported_stats
(
    site_id String,
    import_id String,
    run UInt64,
    dimension String,
    day Date,
    value String,
    parent String,
    visitors UInt64,
    visits UInt64,
    pageviews UInt64,
    bounces UInt64,
    visit_duration UInt64,
    events UInt64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (site_id, dimension, day, value, parent, run);

-- Import jobs: one row per state change of a run (ReplacingMergeTree keeps the newest
-- `version`; readers take argMax by version, so an unmerged table reads the same). An import
-- is a site's data from one tool (`import_id`); each upload of it is a new `run`.
CREATE TABLE IF NOT EXISTS imports
(
    site_id String,
    import_id String,
    run UInt64,
    source String,
    file_name String,
    status String,
    message String,
    created_at DateTime('UTC'),
    updated_at DateTime('UTC'),
    done_units UInt64,
    total_units UInt64,
    first_day Date,
    last_day Date,
    skipped_from Date,
    skipped_to Date,
    skipped_days UInt32,
    rows UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, import_id, run)
