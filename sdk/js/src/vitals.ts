/**
 * Web Vitals (LCP, CLS, INP, TTFB, FCP) read from the browser's performance timeline, measured as
 * web.dev defines them and as Google's `web-vitals` library measures them, in under a third of its size:
 * `web-vitals` alone is ~3.3 KB gzipped, over the whole 2.5 KB budget of the script with vitals
 * (README, "Size"). Each metric is reported once per page view, when the page is first hidden.
 */

import type { VitalName } from "./types";

/** The fields this module reads from paint, LCP, layout-shift, event and first-input entries. */
interface Entry extends PerformanceEntry {
  value: number;
  hadRecentInput?: boolean;
  interactionId?: number;
}

/** Interactions at or over this many ms are observed (web-vitals' default); the first always is. */
const EVENT_THRESHOLD_MS = 40;

/**
 * Starts measuring; `report` gets each metric once, on the first `visibilitychange` to hidden
 * that has a value for it (INP needs an interaction, CLS a first paint). Listeners on the window
 * in the capture phase run before the tracker's own flush on the document, so the values leave
 * with that flush. A page restored from the back/forward cache is a new page view: every metric
 * starts afresh and is reported again, as web-vitals does it (FCP and LCP: two frames after the
 * restore, TTFB: 0).
 */
export function observeVitals(report: (name: VitalName, value: number) => void): void {
  const perf = performance as Performance & { interactionCount?: number };
  const doc = document as Document & { prerendering?: boolean };
  const listen = (type: string, listener: (event: Event) => void): void =>
    addEventListener(type, listener, true);
  const navigation = (): { activationStart?: number; responseStart?: number } =>
    (perf.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined) || {};

  // Times are kept raw (since navigation start) and NaN until known; a NaN value is not reported.
  let fcp = NaN;
  let lcp = NaN;
  let lcpFinal = false;
  // Timing metrics count from the page's activation (a prerendered page) or bfcache restore.
  let restoredAt = -1;
  // Paints after the page was first hidden do not count (the visitor did not wait for them).
  let hiddenAt = Infinity;
  // CLS: the largest session window of shifts (each under 1 s after the last, at most 5 s long).
  let cls = 0;
  let session = 0;
  let sessionStart = 0;
  let lastShift = 0;
  // INP: the worst latency of each interaction, and the ids seen to estimate how many there were.
  const latencies = new Map<number, number>();
  let firstId = 0;
  let lastId = 0;
  let countBefore = 0;
  let sent: { [name: string]: 1 } = {};

  const take = (entries: PerformanceEntryList): void => {
    for (const entry of entries as Entry[]) {
      const { entryType: type, startTime: time, interactionId: id } = entry;
      if (type == "paint") {
        if (entry.name == "first-contentful-paint" && time < hiddenAt) fcp = time;
      } else if (type == "largest-contentful-paint") {
        if (!lcpFinal && time < hiddenAt) lcp = time;
      } else if (type == "layout-shift") {
        // Shifts right after an input are expected by the visitor and do not count.
        if (!entry.hadRecentInput) {
          if (session && time - lastShift < 1000 && time - sessionStart < 5000) session += entry.value;
          else {
            session = entry.value;
            sessionStart = time;
          }
          lastShift = time;
          cls = Math.max(cls, session);
        }
      } else if (id) {
        // `event` and `first-input` entries; an interaction's entries share its id.
        latencies.set(id, Math.max(latencies.get(id) || 0, entry.duration));
        firstId = Math.min(firstId || id, id);
        lastId = Math.max(lastId, id);
      }
    }
  };

  const start = (): void => {
    const observer = new PerformanceObserver((list) => take(list.getEntries()));
    for (const type of ["paint", "largest-contentful-paint", "layout-shift", "event", "first-input"]) {
      try {
        observer.observe({ type, buffered: true, durationThreshold: EVENT_THRESHOLD_MS } as PerformanceObserverInit);
      } catch {
        // An entry type this browser does not know: that metric is not reported.
      }
    }

    // This script may load after the page was hidden once (the browser logs when it was).
    const activation = navigation().activationStart || 0;
    const hidden = perf
      .getEntriesByType("visibility-state")
      .filter((entry) => entry.name == "hidden" && entry.startTime >= activation)[0];
    hiddenAt = hidden ? hidden.startTime : doc.visibilityState == "hidden" ? 0 : Infinity;

    // LCP stops at the first input: what renders after it answers the visitor, not the load.
    const finalizeLcp = (event: Event): void => {
      if (event.isTrusted) {
        take(observer.takeRecords());
        lcpFinal = true;
      }
    };
    listen("keydown", finalizeLcp);
    listen("click", finalizeLcp);

    listen("visibilitychange", (event) => {
      if (doc.visibilityState != "hidden") return;
      take(observer.takeRecords());
      lcpFinal = true;
      hiddenAt = Math.min(hiddenAt, event.timeStamp);
      // A paint while prerendering came before the visitor opened the page: 0 to them.
      const origin = restoredAt < 0 ? navigation().activationStart || 0 : restoredAt;
      const ttfb = restoredAt < 0 ? navigation().responseStart || NaN : restoredAt;
      // INP is about the 98th percentile: one worst interaction is skipped for every 50. Chromium
      // has no interaction count, but its interaction ids go up by 7 (web-vitals counts the same way).
      const count = perf.interactionCount != null ? perf.interactionCount - countBefore : (lastId - firstId) / 7 + 1;
      const worst = [...latencies.values()].sort((a, b) => b - a);
      const values: [VitalName, number][] = [
        ["FCP", fcp - origin],
        ["LCP", lcp - origin],
        ["TTFB", ttfb - origin],
        // Like web-vitals, CLS only for a page that painted (`fcp * 0` is NaN until then).
        ["CLS", fcp * 0 + cls],
        ["INP", worst[Math.min(worst.length - 1, Math.floor(count / 50))] as number],
      ];
      for (const [name, value] of values) {
        if (!isNaN(value) && !sent[name]) {
          sent[name] = 1;
          report(name, Math.max(value, 0));
        }
      }
    });

    listen("pageshow", (event) => {
      if (!(event as PageTransitionEvent).persisted) return;
      restoredAt = event.timeStamp;
      hiddenAt = Infinity;
      sent = {};
      fcp = lcp = NaN;
      cls = session = 0;
      latencies.clear();
      firstId = lastId = 0;
      countBefore = perf.interactionCount || 0;
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          fcp = lcp = perf.now();
        }),
      );
    });
  };

  // A prerendered page is measured from when the visitor opens it.
  if (doc.prerendering) listen("prerenderingchange", start);
  else start();
}
