/** The dashboard's query string: the period and the filters, passed to the stats API as is. */

export const PERIODS = [
  { value: "24h", label: "Last 24 hours" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "90d", label: "Last 90 days" },
] as const;
export const DEFAULT_PERIOD = "30d";

export const FILTER_LABELS: Record<string, string> = {
  path: "Page",
  hostname: "Hostname",
  source: "Source",
  referrer: "Referrer",
  channel: "Channel",
  utmSource: "UTM source",
  utmMedium: "UTM medium",
  utmCampaign: "UTM campaign",
  utmTerm: "UTM term",
  utmContent: "UTM content",
  country: "Country",
  region: "Region",
  city: "City",
  device: "Device",
  browser: "Browser",
  os: "OS",
  screen: "Screen",
  event: "Event",
  prop: "Property",
  goal: "Converted goal",
  error: "Met error",
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A custom range: `from` and `to`, local dates, both days included. */
export function customRange(query: URLSearchParams): { from: string; to: string } | null {
  const from = query.get("from") ?? "";
  const to = query.get("to") ?? "";
  return DATE.test(from) && DATE.test(to) ? { from, to } : null;
}

export function period(query: URLSearchParams): string {
  if (customRange(query)) return "custom";
  const value = query.get("period");
  return PERIODS.some((p) => p.value === value) ? value! : DEFAULT_PERIOD;
}

export function activeFilters(query: URLSearchParams): [string, string][] {
  return [...query.entries()].filter(([key]) => key in FILTER_LABELS);
}

/** The stats API's query for this view: period first, then the filters. */
export function statsQuery(query: URLSearchParams): string {
  const range = customRange(query);
  const params = new URLSearchParams(range ?? { period: period(query) });
  for (const [key, value] of activeFilters(query)) params.append(key, value);
  // `exact`: every report reads all events, even a filtered one past the sampling limit.
  if (query.get("sampling") === "exact") params.set("sampling", "exact");
  const segment = query.get("segment");
  if (segment) params.set("segment", segment);
  if (query.get("imported") === "1") params.set("imported", "true");
  return params.toString();
}

export function withParams(query: URLSearchParams, changes: Record<string, string | null>): string {
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) next.delete(key);
    else next.set(key, value);
  }
  const text = next.toString();
  return text ? `?${text}` : "";
}

export const withParam = (query: URLSearchParams, key: string, value: string | null) =>
  withParams(query, { [key]: value });

function localDate(instant: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date(instant)); // YYYY-MM-DD
}

/** The stats query for the previous period as whole local days; for the last 24 hours, the
 * local days around the previous 24 hours in hourly buckets, which the caller trims to `keep`
 * (the API takes periods or whole days, not instants). */
export function previousQuery(
  query: URLSearchParams,
  previous: { start: string; end: string; tz: string },
): { query: string; keep: ((bucketStart: string) => boolean) | null } {
  const start = Date.parse(previous.start);
  const end = Date.parse(previous.end);
  const params = new URLSearchParams({
    from: localDate(start, previous.tz),
    to: localDate(end - 1, previous.tz),
  });
  const hourly = period(query) === "24h";
  if (hourly) params.set("interval", "hour");
  for (const [key, value] of activeFilters(query)) params.append(key, value);
  const segment = query.get("segment");
  if (segment) params.set("segment", segment);
  if (query.get("imported") === "1") params.set("imported", "true");
  return {
    query: params.toString(),
    keep: hourly
      ? (bucketStart) => {
          const t = Date.parse(bucketStart);
          return t >= start && t < end;
        }
      : null,
  };
}
