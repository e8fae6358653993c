/**
 * `script.extras.js`: engagement, outbound links, downloads, errors and 404s for the plain
 * script, which loads it after itself and hands over its tracker and its `data-*` attributes on
 * `window.traytic`.
 */

import { observeExtras, reportNotFound } from "./extras";
import type { Tracker } from "./tracker";

const traytic = (window as unknown as { traytic?: { _t?: Tracker; _o?: DOMStringMap } }).traytic;
if (traytic && traytic._t) {
  const data = traytic._o || {};
  // A present attribute turns an option on (`data-outbound-links` or `="true"`).
  const on = (value: string | undefined): boolean => value != null && value !== "false";
  const downloads = data.fileDownloads;
  observeExtras(traytic._t, {
    engagement: data.engagement !== "false",
    outboundLinks: on(data.outboundLinks),
    // Alone (or "true") it means the default extensions; a value lists its own: "pdf,zip".
    fileDownloads: downloads === "" || downloads === "true" || (on(downloads) && downloads!.split(/[\s,]+/)),
    trackErrors: on(data.trackErrors),
  });
  // One attribute on the site's not-found page: `<script ... data-not-found>`.
  if (on(data.notFound)) reportNotFound(traytic._t);
}
