/**
 * `@traytic/analytics/vue`: a Vue 3 plugin, `app.use(Traytic, { siteId: "...", router })`. With
 * a vue-router it counts a page view after each navigation (`router.afterEach`, once the URL has
 * changed); without one, route changes are counted through the History API. Vue itself is not
 * imported: the plugin is a plain object, so the package has no dependency on it.
 */

import { type InitOptions, init, pageview } from "./index";

export { flush, notFound, pageview, track } from "./index";

/** What the plugin needs of a vue-router `Router` (structurally, so any version 4 fits). */
export interface RouterLike {
  afterEach(guard: (to: unknown, from: unknown, failure?: unknown) => unknown): unknown;
}

export interface TrayticVueOptions extends InitOptions {
  /** Your vue-router: page views follow its navigations (a failed navigation counts none). */
  router?: RouterLike;
}

export const Traytic = {
  install(_app: unknown, options: TrayticVueOptions): void {
    const { router, ...rest } = options;
    // With a router, its navigations are the page views: patching the History API as well
    // would see the same changes (counted once either way, the tracker skips a repeated URL).
    init(router ? { ...rest, spa: false } : rest);
    if (router) router.afterEach((_to, _from, failure) => failure || pageview());
  },
};

export default Traytic;
