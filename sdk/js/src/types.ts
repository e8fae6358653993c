/**
 * The wire schema of `POST /collect`, mirroring `traytic.core.events` (Python) field for field.
 * Limits that the gateway enforces are noted on each field; `examples/` holds payloads that both
 * the TypeScript and the Python tests check against their side of this contract.
 */

/** A custom-event property value; nested objects are rejected by the gateway. */
export type PropValue = string | number | boolean | null;

export type VitalName = "LCP" | "CLS" | "INP" | "TTFB" | "FCP";

export const VITAL_NAMES: readonly VitalName[] = ["LCP", "CLS", "INP", "TTFB", "FCP"];

/** A page was shown (a full load or a single-page-app route change). */
export interface WirePageview {
  type: "pageview";
  /** Non-empty. */
  url: string;
  referrer?: string | null;
}

/**
 * Money a custom event brought in, stored as sent and reported in the site's currency.
 * `amount`: a number from 0 to 1e12, or a decimal string (`"29.99"`); `currency`: an ISO 4217
 * code (`"EUR"`). The gateway refuses other amounts and codes that are not currencies.
 */
export interface Revenue {
  amount: number | string;
  currency: string;
}

/** `track(name, props, { revenue })` from the site's code. */
export interface WireCustomEvent {
  type: "event";
  /** Non-empty. */
  name: string;
  /** Non-empty. */
  url: string;
  props?: Record<string, PropValue>;
  revenue?: Revenue;
}

/** One Web Vitals measurement (milliseconds, except CLS which is unitless). */
export interface WireVital {
  type: "vital";
  name: VitalName;
  /** >= 0. */
  value: number;
  /** Non-empty. */
  url: string;
}

/** An uncaught error on the page, when error tracking is on. */
export interface WireError {
  type: "error";
  /** Non-empty. */
  message: string;
  /** Non-empty. */
  url: string;
  /** Where it was thrown: the script's URL without query or fragment, `:line:column`. */
  source?: string | null;
}

/**
 * How long the visitor was engaged with a page and how far they scrolled, sent when the page is
 * hidden or left. `engagedMs` counts only time since the previous engagement event of the same
 * page; `scrollDepth` is the deepest point so far.
 */
export interface WireEngagement {
  type: "engagement";
  /** Non-empty: the page's URL as its pageview sent it. */
  url: string;
  /** Visible and active milliseconds, an integer from 0 to 86400000 (a day). */
  engagedMs: number;
  /** The deepest point reached, percent of the page's height: an integer from 0 to 100. */
  scrollDepth: number;
}

/** Everything a beacon can carry, told apart by `type`. */
export type WireEvent = WirePageview | WireCustomEvent | WireVital | WireError | WireEngagement;

/** The body of `POST /collect`. */
export interface Beacon {
  /** 1 to 64 characters. */
  siteId: string;
  /** At least one event. */
  events: WireEvent[];
  /** Viewport width in CSS pixels, an integer from 0 to 100000. */
  screen?: number | null;
}
