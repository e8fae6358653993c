/** The public API, as the dashboard calls it: session cookie, and the CSRF header on writes. */

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public field?: string,
    public code?: string,
  ) {
    super(message);
  }
}

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)traytic_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const data = await response.json().catch(() => null);
  if (response.status === 401 && !path.startsWith("/api/auth/")) {
    // The session ended (expired, or logged out in another tab): back to the login page.
    window.dispatchEvent(new Event("traytic:signed-out"));
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.message ?? response.statusText, data?.field, data?.code);
  }
  return data as T;
}

export interface Organisation {
  id: string;
  name: string;
  slug: string;
  plan: string;
  role: "owner" | "admin" | "viewer";
  /** Members must use two-factor sign-in to use it (set by an owner). */
  requireTwoFactor: boolean;
}
export interface User {
  id: string;
  email: string;
  name: string | null;
}
export interface Me {
  kind: string;
  user: User | null;
  organisations: Organisation[];
  /** The signed-in user signs in with a second factor. */
  twoFactor: boolean;
}
export interface Site {
  id: string;
  organisationId: string;
  domain: string;
  name: string;
  timeZone: string;
  public: boolean;
  /** Page hostnames accepted besides the domain and its subdomains (`*.x.com`: subdomains). */
  allowedHostnames: string[];
  /** Beacons from pages on localhost are accepted (development). */
  allowLocalhost: boolean;
  /** Beacons from hosting and cloud networks are dropped. */
  filterDatacenter: boolean;
  /** ISO 4217 code revenue is reported in. */
  currency: string;
}
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdById: string | null;
  /** Its creator is no longer a member: revoke it unless it is still wanted. */
  needsReview: boolean;
  key?: string;
}

export interface Metric {
  value: number;
  previous: number;
}
export interface Range {
  start: string;
  end: string;
  tz: string;
}
export interface Overview {
  range: Range;
  previousRange: Range;
  visitors: Metric;
  visits: Metric;
  pageviews: Metric;
  viewsPerVisit: Metric;
  bounceRate: Metric;
  visitDuration: Metric;
  events: Metric;
  /** The share of visitors a filtered report read past the sampling limit; absent: exact. */
  sampled?: number;
  /** Mean engaged seconds per visit (visible, active time the tracker measured). */
  engagedTime: Metric;
  /** With `imported=true`: whether imported data was added (never with filters). */
  importsIncluded?: boolean;
}
export interface Bucket {
  start: string;
  visitors: number;
  pageviews: number;
}
export interface Timeseries {
  interval: string;
  buckets: Bucket[];
}
export interface Conversions {
  uniqueConversions: number;
  totalConversions: number;
  conversionRate: number;
  revenue?: number;
  averageRevenue?: number;
}
export interface Row {
  value: string;
  visitors: number;
  visits?: number;
  pageviews?: number;
  conversions?: Conversions;
  /** Pages only: mean engaged seconds and deepest scroll (percent) per view. */
  timeOnPage?: number;
  scrollDepth?: number;
}
export interface LinkRow {
  value: string;
  events: number;
  visitors: number;
}
export interface EngagementReport {
  pages: { value: string; views: number; timeOnPage: number; scrollDepth: number }[];
  outboundLinks: LinkRow[];
  downloads: LinkRow[];
  notFound: LinkRow[];
}
export interface ErrorsReport {
  errors: {
    message: string;
    page: string;
    source: string;
    errors: number;
    visitors: number;
    firstSeen: string;
    lastSeen: string;
  }[];
}
export interface CustomEvent {
  name: string;
  events: number;
  visitors: number;
  props: { key: string; value: string; events: number; visitors: number }[];
}
export interface Vital {
  metric: string;
  p75: number;
  p95: number;
  samples: number;
  good: number;
  needsImprovement: number;
  poor: number;
  route?: string;
}
export interface LiveEvent {
  ts: string | number;
  type: string;
  name: string;
  pathname: string;
  country: string;
  city?: string;
  device: string;
  browser: string;
}

const statsPath = (siteId: string, report: string, query: string) =>
  `/api/events/${encodeURIComponent(siteId)}/${report}?${query}`;

/** Requests started before the page needed them (`prefetchStats`), each taken once. */
const early = new Map<string, Promise<unknown>>();

export function stats<T>(siteId: string, report: string, query: string): Promise<T> {
  const path = statsPath(siteId, report, query);
  const started = early.get(path);
  if (started) {
    early.delete(path);
    return started as Promise<T>;
  }
  return api<T>("GET", path);
}

/** Start a report's request now, for the `stats()` call that will want it: the key figures of
 * a dashboard opened by its URL need not wait for who is signed in and the list of sites. */
export function prefetchStats(siteId: string, report: string, query: string): void {
  const request = api("GET", statsPath(siteId, report, query));
  request.catch(() => undefined); // the caller that takes it sees the error; nobody else must
  early.set(statsPath(siteId, report, query), request);
}

/** `GET /api/billing` (the billing service; 404 `billing_not_configured` when billing is off). */
export interface Billing {
  organisationId: string;
  plan: string;
  status: string;
  currentPeriodEnd: string | null;
  subscription: {
    provider: string;
    plan: string;
    status: string;
    currency: string;
    amount: number;
    currentPeriodEnd: string | null;
    cancelAtPeriodEnd: boolean;
  } | null;
  usage: { eventsThisMonth: number; eventsLimit: number | null; overQuota: boolean };
  invoices: {
    provider: string;
    id: string;
    status: string;
    currency: string;
    amount: number;
    paidAt: string | null;
    hostedUrl: string | null;
  }[];
  manageUrl?: string | null;
}

/** Goals and funnels (`/api/orgs/{org}/sites/{site}/goals|funnels`) and their reports. */
export interface GoalDef {
  id: string;
  name: string;
  kind: "pageview" | "event" | "revenue";
  match: string;
  propKey: string | null;
  propValue: string | null;
}
export interface FunnelDef {
  id: string;
  name: string;
  steps: GoalDef[];
  windowMinutes: number | null;
}
export interface GoalFigures {
  id: string;
  name: string;
  kind: string;
  uniqueConversions: Metric;
  totalConversions: Metric;
  conversionRate: Metric;
  revenue?: Metric;
  averageRevenue?: Metric;
}
export interface GoalsReport {
  visitors: Metric;
  goals: GoalFigures[];
  money: { currency: string; unconverted?: string[] };
}
export interface FunnelStepFigures {
  goalId: string;
  name: string;
  visitors: number;
  previous: number;
  conversionRate: number;
  stepRate: number;
  dropoff: number;
}
export interface FunnelReport {
  windowMinutes: number | null;
  steps: FunnelStepFigures[];
  conversionRate: Metric;
  breakdown?: string;
  segments?: { value: string; visitors: number[]; conversionRate: number }[];
}
