/**
 * The tracker core shared by the npm package and the plain `script.js`: builds wire events,
 * batches them briefly and sends them as `text/plain` beacons. It stores nothing on the device
 * (no cookies, no Web Storage) and stays silent under Do Not Track and on localhost.
 */

import { hashPath } from "./paths";
import { isLocalPage, wantsNoTracking } from "./privacy";
import type { PropValue, Revenue, VitalName, WireEvent } from "./types";

export interface TrackerOptions {
  /** The site's id from the Traytic dashboard. */
  siteId: string;
  /** Where beacons go; default `/collect` on the page's own origin. */
  endpoint?: string;
  /** Send nothing when the browser asks not to be tracked (DNT or GPC). Default `true`. */
  respectDnt?: boolean;
  /** Replace id-like path segments (numbers, UUIDs, long hex) with `[id]`. Default `false`. */
  hashPaths?: boolean;
  /** The app routes in `location.hash` (`/#/users`): count hash changes as page views. */
  hashRouting?: boolean;
  /** Count page views on History API navigations (`pushState`, `replaceState`, back/forward). Default `true`. */
  spa?: boolean;
  /** Also send from `localhost`, `127.0.0.1` and `file:` pages (for trying it out). Default `false`. */
  allowLocalhost?: boolean;
}

export interface TrackOptions {
  revenue?: Revenue;
}

export interface Tracker {
  /** False when DNT, localhost or a missing site id turned the tracker off; every call is then a no-op. */
  readonly enabled: boolean;
  /** A custom event; `options.revenue` is money it brought in (`{ amount: 29.99, currency: "EUR" }`). */
  track(name: string, props?: Record<string, unknown> | null, options?: TrackOptions): void;
  /** Count a page view of the current URL, unless it is the one counted last. */
  pageview(): void;
  /** Queue a Web Vitals value for the page view it was measured on; sent when the page is hidden. */
  vital(name: VitalName, value: number): void;
  /** Send whatever is queued now. */
  flush(): void;
  /** The current page's URL as the tracker reports it (hashed, without the fragment). */
  url(): string;
  /** Queue a wire event; `hold` keeps it until the page is hidden (or the queue fills). */
  send(event: WireEvent, hold?: boolean): void;
  /** Call `listener` when a route change is about to count a new page (the old one is left). */
  onLeave(listener: () => void): void;
}

/** How long events wait for company before a beacon leaves (page hide sends at once). */
export const FLUSH_DELAY_MS = 1000;
/** Events per beacon, well under the gateway's batch limit. */
export const MAX_EVENTS_PER_BEACON = 25;

const noop = () => {};
const DISABLED: Tracker = {
  enabled: false,
  track: noop,
  pageview: noop,
  vital: noop,
  flush: noop,
  url: noop as () => string,
  send: noop,
  onLeave: noop,
};

/** POST one body, preferring `sendBeacon` (survives unload, no preflight for a string body). */
export function send(endpoint: string, body: string): void {
  try {
    if (navigator.sendBeacon(endpoint, body)) return;
  } catch {
    // No sendBeacon, or it refused the URL: fall through to fetch.
  }
  fetch(endpoint, {
    method: "POST",
    body,
    keepalive: true,
    mode: "no-cors",
    credentials: "omit",
  }).catch(noop);
}

/** Keep only values the gateway accepts, so one bad prop cannot get the whole beacon rejected. */
export function cleanProps(props: Record<string, unknown>): Record<string, PropValue> {
  const clean: Record<string, PropValue> = {};
  for (const key in props) {
    const value = props[key];
    const kind = typeof value;
    if (value === null || kind === "string" || kind === "boolean" || kind === "number") {
      clean[key] = value as PropValue;
    }
  }
  return clean;
}

export function createTracker(options: TrackerOptions, transport = send): Tracker {
  const { siteId, hashPaths, hashRouting } = options;
  if (
    !siteId ||
    (options.respectDnt !== false && wantsNoTracking(navigator, window)) ||
    (!options.allowLocalhost && isLocalPage(location))
  ) {
    return DISABLED;
  }
  const endpoint = options.endpoint || "/collect";
  let queue: WireEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  let lastUrl = "";
  let vitalsUrl = "";
  const leaving: Array<() => void> = [];

  const currentUrl = (): string => {
    let path = location.pathname;
    let hash = hashRouting ? location.hash : "";
    if (hashPaths) {
      path = hashPath(path);
      hash = hashPath(hash);
    }
    return location.origin + path + location.search + hash;
  };

  const flush = (): void => {
    clearTimeout(timer);
    timer = 0;
    while (queue.length) {
      const events = queue.splice(0, MAX_EVENTS_PER_BEACON);
      transport(endpoint, JSON.stringify({ siteId, screen: innerWidth, events }));
    }
  };

  const push = (event: WireEvent, waitForHide?: boolean): void => {
    queue.push(event);
    if (queue.length >= MAX_EVENTS_PER_BEACON) flush();
    else if (!waitForHide && !timer) timer = setTimeout(flush, FLUSH_DELAY_MS);
  };

  const pageview = (): void => {
    const url = currentUrl();
    if (url === lastUrl) return;
    // A route change reads like a full navigation: the previous page is the referrer.
    const referrer = lastUrl || document.referrer;
    if (lastUrl) for (const listener of leaving) listener();
    lastUrl = url;
    vitalsUrl = vitalsUrl || url;
    push(referrer ? { type: "pageview", url, referrer } : { type: "pageview", url });
  };

  const tracker: Tracker = {
    enabled: true,
    pageview,
    flush,
    url: currentUrl,
    send: push,
    onLeave: (listener) => leaving.push(listener),
    track(name, props, options) {
      // Absent fields are left out by JSON.stringify.
      if (name)
        push({
          type: "event",
          name,
          url: currentUrl(),
          props: props ? cleanProps(props) : undefined,
          revenue: options ? options.revenue : undefined,
        });
    },
    vital(name, value) {
      push({ type: "vital", name, value: Math.max(0, value), url: vitalsUrl || currentUrl() }, true);
    },
  };

  // Listening on the document (not the window in the capture phase) lets the vitals observer,
  // which listens on the window in the capture phase, report on the same `visibilitychange`
  // before the queue leaves.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });
  addEventListener("pagehide", flush);
  addEventListener("pageshow", (event) => {
    // Back/forward cache restore: a new page view, whose vitals are measured afresh.
    if (event.persisted) {
      lastUrl = vitalsUrl = "";
      pageview();
    }
  });

  if (options.spa !== false) {
    for (const method of ["pushState", "replaceState"] as const) {
      const original = history[method];
      history[method] = function (this: History, ...args: Parameters<History["pushState"]>) {
        original.apply(this, args);
        pageview();
      };
    }
    addEventListener("popstate", pageview);
    if (hashRouting) addEventListener("hashchange", pageview);
  }

  pageview();
  return tracker;
}
