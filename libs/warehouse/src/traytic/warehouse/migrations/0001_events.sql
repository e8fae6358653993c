-- The events table: one row per pageview, custom event, vital or error (see rows.EventRow).
-- ReplacingMergeTree keyed on event_id: a row inserted twice collapses on merge, a second line
-- of defence behind the consumer's existing_event_ids() check. Site and day lead the key so a
-- dashboard query reads only its site's granules for its date range.
CREATE TABLE IF NOT EXISTS events
(
    site_id String,
    ts DateTime('UTC'),
    type Enum8('pageview' = 1, 'event' = 2, 'vital' = 3, 'error' = 4),
    name String,
    event_id UInt64,
    visitor_id UInt64,
    session_id UInt64,
    hostname String,
    pathname String,
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
    browser_version String,
    os String,
    os_version String,
    device String,
    screen String,
    language String,
    props Nested(key String, value String),
    value Float64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, toDate(ts), event_id)
