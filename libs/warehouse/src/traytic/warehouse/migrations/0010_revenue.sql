-- Revenue a custom event carried (issue 17), as sent: the amount in millionths of the currency's
-- unit (traytic.core.revenue.amount_micros: exact for every currency's minor units, and sums
-- stay exact) and the ISO 4217 code; 0 and '' when the event carried none. Stats convert to the
-- site's reporting currency when they read (traytic.warehouse.stats.revenue).
ALTER TABLE events
    ADD COLUMN IF NOT EXISTS revenue_micros Int64,
    ADD COLUMN IF NOT EXISTS revenue_currency String
