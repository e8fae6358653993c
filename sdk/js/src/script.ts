/**
 * The plain `script.js`: `<script defer src="https://host/script.js" data-site-id="...">`.
 * Reads its `data-*` attributes, replays `traytic.track()` calls made before it loaded, and loads
 * `script.vitals.js` from beside itself unless `data-vitals="false"`, and `script.extras.js`
 * (engaged time, scroll depth, outbound links, downloads, errors, 404s) when one of them is on.
 */

import { createTracker } from "./tracker";

interface Stub {
  q?: ArrayLike<unknown>[];
}

const script = document.currentScript as HTMLScriptElement;
const data = script.dataset;
// A present attribute turns an option on (`data-hash-paths` or `data-hash-paths="true"`).
const on = (value: string | undefined): boolean => value != null && value !== "false";
const w = window as unknown as { traytic?: Stub & Record<string, unknown> };
const queued = (w.traytic && w.traytic.q) || [];

const tracker = createTracker({
  siteId: data.siteId as string,
  endpoint: data.endpoint || new URL("/collect", script.src).href,
  respectDnt: data.respectDnt !== "false",
  hashPaths: on(data.hashPaths),
  hashRouting: on(data.hashRouting),
  allowLocalhost: on(data.allowLocalhost),
});

w.traytic = { track: tracker.track, pageview: tracker.pageview, _v: tracker.vital, _t: tracker, _o: data };
for (const args of queued) tracker.track(...(Array.prototype.slice.call(args) as Parameters<typeof tracker.track>));

const load = (file: string): void => {
  const child = document.createElement("script");
  child.src = new URL(file, script.src).href;
  document.head.appendChild(child);
};
if (tracker.enabled && data.vitals !== "false") load("script.vitals.js");
// script-extras.ts reads the attributes it serves from `_o`.
if (
  tracker.enabled &&
  (data.engagement !== "false" || on(data.outboundLinks) || on(data.fileDownloads) || on(data.trackErrors) || on(data.notFound))
) {
  load("script.extras.js");
}
