/**
 * `@traytic/analytics`: one tracker per page. `init()` starts it; `track()` and `pageview()`
 * called earlier (a child component's effect runs before its parent's) wait for it.
 */

import type { ExtrasOptions } from "./extras";
import { createTracker, type TrackOptions, type Tracker, type TrackerOptions } from "./tracker";

export { hashPath } from "./paths";
export type { ExtrasOptions } from "./extras";
export type { TrackOptions, TrackerOptions } from "./tracker";
export type * from "./types";

export interface InitOptions extends TrackerOptions, ExtrasOptions {
  /** Measure Web Vitals (LCP, CLS, INP, TTFB, FCP), loaded as a separate chunk. Default `true`. */
  vitals?: boolean;
}

let tracker: Tracker | undefined;
let waiting: Array<(tracker: Tracker) => void> = [];

const inBrowser = (): boolean => typeof window !== "undefined" && typeof document !== "undefined";

function whenStarted(call: (tracker: Tracker) => void): void {
  if (tracker) call(tracker);
  else if (inBrowser()) waiting.push(call);
}

/** Start tracking this page. Later calls are ignored: there is one tracker per page. */
export function init(options: InitOptions): void {
  if (tracker || !inBrowser()) return;
  const started = createTracker(options);
  tracker = started;
  for (const call of waiting) call(started);
  waiting = [];
  if (started.enabled && options.vitals !== false) {
    // A browser without PerformanceObserver still gets page views and events.
    import("./vitals")
      .then(({ observeVitals }) => observeVitals(started.vital))
      .catch(() => {});
  }
  // Engagement is on unless turned off; the rest are opt-in.
  const { engagement, outboundLinks, fileDownloads, trackErrors } = options;
  if (started.enabled && (engagement !== false || outboundLinks || fileDownloads || trackErrors)) {
    import("./extras")
      .then(({ observeExtras }) => observeExtras(started, options))
      .catch(() => {});
  }
}

/**
 * Your custom events, for TypeScript: declare them once and `track` accepts only those names,
 * each with its props (an empty map, the default, accepts any name and props):
 *
 *     declare module "@traytic/analytics" {
 *       interface TrackedEvents { signup: { plan: "free" | "pro" }; logout: undefined }
 *     }
 */
export interface TrackedEvents {}

/** The names `track` accepts: those of `TrackedEvents`, or any string while it is empty. */
export type EventName = [keyof TrackedEvents] extends [never] ? string : keyof TrackedEvents & string;
/** The props of an event: as declared, or any flat props for an undeclared map. */
export type EventProps<N extends string> = N extends keyof TrackedEvents
  ? TrackedEvents[N]
  : Record<string, unknown>;

/**
 * Send a custom event; props are flat (string, number, boolean or null values). Money it brought
 * in goes in `options.revenue`: `track("purchase", { plan: "pro" }, { revenue: { amount: 29.99, currency: "EUR" } })`.
 */
export function track<N extends EventName>(
  name: N,
  props?: EventProps<N> | null,
  options?: TrackOptions,
): void {
  whenStarted((t) => t.track(name, props as Record<string, unknown> | null | undefined, options));
}

/** Count a page view of the current URL by hand (route changes are counted automatically). */
export function pageview(): void {
  whenStarted((t) => t.pageview());
}

/**
 * Report this page as not found: call it on your 404 page. Sent as the custom event `404` with
 * the page's URL as prop `url`.
 */
export function notFound(): void {
  whenStarted((t) => t.track("404", { url: t.url() }));
}

/** Send queued events now instead of after the short batching delay. */
export function flush(): void {
  whenStarted((t) => t.flush());
}

/** Forget the tracker; for tests only (listeners already added stay). */
export function _resetForTests(): void {
  tracker = undefined;
  waiting = [];
}
