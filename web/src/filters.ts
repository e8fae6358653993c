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
};

export function period(query: URLSearchParams): string {
  const value = query.get("period");
  return PERIODS.some((p) => p.value === value) ? value! : DEFAULT_PERIOD;
}

export function activeFilters(query: URLSearchParams): [string, string][] {
  return [...query.entries()].filter(([key]) => key in FILTER_LABELS);
}

/** The stats API's query for this view: period first, then the filters. */
export function statsQuery(query: URLSearchParams): string {
  const params = new URLSearchParams({ period: period(query) });
  for (const [key, value] of activeFilters(query)) params.append(key, value);
  return params.toString();
}

export function withParam(query: URLSearchParams, key: string, value: string | null): string {
  const next = new URLSearchParams(query);
  if (value === null) next.delete(key);
  else next.set(key, value);
  const text = next.toString();
  return text ? `?${text}` : "";
}
