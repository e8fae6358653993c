/**
 * `@traytic/analytics/svelte`: for SvelteKit, in the root `+layout.svelte`:
 *
 *     import { afterNavigate } from "$app/navigation";
 *     import { analytics } from "@traytic/analytics/svelte";
 *     analytics({ siteId: "st_..." }, afterNavigate);
 *
 * SvelteKit keeps its own reference to the History API, so route changes are counted from its
 * `afterNavigate` (passed in: `$app/navigation` exists only inside a SvelteKit build). Without
 * it (plain Svelte), route changes are counted through the History API.
 */

import { type InitOptions, init, pageview } from "./index";

export { flush, notFound, pageview, track } from "./index";

/** SvelteKit's `afterNavigate`, which must be called while a component initialises. */
export type AfterNavigate = (callback: (navigation: unknown) => void) => void;

export function analytics(options: InitOptions, afterNavigate?: AfterNavigate): void {
  init(afterNavigate ? { ...options, spa: false } : options);
  // It also runs on the first mount: the tracker skips the URL it has just counted.
  if (afterNavigate) afterNavigate(() => pageview());
}
