-- Engagement beyond the pageview (issue 18). An `engagement` event from the tracker is stored as
-- a row of type 'vital' named 'engagement' (the stats' vitals read only the Web Vitals names):
-- adding a value to the `type` Enum8 would need an ALTER MODIFY that the cluster migrations
-- cannot replay on 18.16, and every `type` filter of the stats would stay as it is anyway.
-- `engaged_ms`: the visible, active milliseconds it reports (its page's sum is the page's
-- time); `scroll_depth`: the deepest point reached so far, in percent of the page's height.
-- `error_source`: where an error was thrown (`https://x.com/app.js:12:7`), for error rows.
ALTER TABLE events
    ADD COLUMN IF NOT EXISTS engaged_ms UInt32,
    ADD COLUMN IF NOT EXISTS scroll_depth UInt8,
    ADD COLUMN IF NOT EXISTS error_source String
