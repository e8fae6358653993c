/**
 * The browser half of the Astro integration (`@traytic/analytics/astro/client`): the script it
 * injects calls `start(options)` once per full page load.
 */

import { type InitOptions, init, pageview } from "./index";

export { flush, notFound, pageview, track } from "./index";

export function start(options: InitOptions): void {
  // View transitions swap the page and then fire `astro:page-load` (also after the first
  // load): those are the page views, not the History API calls made before the swap.
  init({ ...options, spa: false });
  document.addEventListener("astro:page-load", () => pageview());
}
