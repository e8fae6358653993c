/**
 * `@traytic/analytics/next/config`: `withTraytic(nextConfig)` serves Traytic first-party. It adds
 * rewrites so that the site's own `/collect`, `/script.js`, `/script.vitals.js` and `/script.extras.js` are proxied to
 * the Traytic host: `<Analytics siteId="..." />` then needs no `endpoint` (its default is the
 * page's `/collect`), beacons stay same-origin, and blockers that match analytics hosts let them
 * through. It imports nothing from React or Next.js, so `next.config.*` can load it in Node.
 */

/** The subset of `next.config`'s `rewrites` that this needs (Next.js's own type, structurally). */
export interface Rewrite {
  source: string;
  destination: string;
  [key: string]: unknown;
}

export type Rewrites =
  | Rewrite[]
  | { beforeFiles?: Rewrite[]; afterFiles?: Rewrite[]; fallback?: Rewrite[] };

type RewritesFunction = () => Rewrites | Promise<Rewrites>;

/** The config `withTraytic` returns: yours, with rewrites that include Traytic's. */
export type WithTraytic<C> = C & { rewrites: () => Promise<Rewrites> };

type NextConfigFunction<C> = (phase: string, context: { defaultConfig: C }) => C | Promise<C>;
type WrappedFunction<C> = (phase: string, context: { defaultConfig: C }) => Promise<WithTraytic<C>>;

export interface WithTrayticOptions {
  /**
   * The Traytic server that receives beacons (where the gateway answers `/collect`), e.g.
   * `https://analytics.example.com`. Default: the `TRAYTIC_HOST` environment variable, then
   * `NEXT_PUBLIC_TRAYTIC_HOST`.
   */
  host?: string;
  /** The path the site's pages post to; `<Analytics />` defaults to `/collect`. */
  collectPath?: string;
  /** The path of the plain tracker for script-tag pages; `script.vitals.js` is served beside it. */
  scriptPath?: string;
}

function trayticHost(options: WithTrayticOptions): string {
  const env = typeof process !== "undefined" ? process.env : {};
  const host = options.host ?? env.TRAYTIC_HOST ?? env.NEXT_PUBLIC_TRAYTIC_HOST;
  if (!host) {
    throw new Error(
      "withTraytic: set `host` (or TRAYTIC_HOST) to your Traytic server, " +
        "e.g. https://analytics.example.com",
    );
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new Error(`withTraytic: host must be an absolute URL, got ${JSON.stringify(host)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`withTraytic: host must be an http(s) URL, got ${JSON.stringify(host)}`);
  }
  return url.href.replace(/\/+$/, "");
}

/** The rewrites `withTraytic` adds, in the order Next.js tries them. */
export function trayticRewrites(options: WithTrayticOptions = {}): Rewrite[] {
  const host = trayticHost(options);
  const collect = options.collectPath ?? "/collect";
  const script = options.scriptPath ?? "/script.js";
  // script.js loads `script.vitals.js` and `script.extras.js` from its own directory
  // (new URL("script.vitals.js", src)).
  const dir = script.slice(0, script.lastIndexOf("/") + 1);
  return [
    { source: collect, destination: `${host}/collect` },
    { source: script, destination: `${host}/script.js` },
    { source: `${dir}script.vitals.js`, destination: `${host}/script.vitals.js` },
    { source: `${dir}script.extras.js`, destination: `${host}/script.extras.js` },
  ];
}

function withRewrites<C extends object>(config: C, ours: Rewrite[]): WithTraytic<C> {
  const theirs = (config as { rewrites?: RewritesFunction }).rewrites;
  return {
    ...config,
    // beforeFiles: checked before pages and public files, so an app route cannot shadow them.
    async rewrites(): Promise<Rewrites> {
      const existing = theirs ? await theirs() : [];
      if (Array.isArray(existing)) return { beforeFiles: ours, afterFiles: existing, fallback: [] };
      return { ...existing, beforeFiles: [...ours, ...(existing.beforeFiles ?? [])] };
    },
  };
}

/**
 * Wrap the Next.js config: `export default withTraytic(nextConfig)`. Keeps your own rewrites
 * (after Traytic's) and accepts a config object or a config function.
 */
export function withTraytic<C extends object>(
  nextConfig: NextConfigFunction<C>,
  options?: WithTrayticOptions,
): WrappedFunction<C>;
export function withTraytic<C extends object = object>(
  nextConfig?: C,
  options?: WithTrayticOptions,
): WithTraytic<C>;
export function withTraytic<C extends object>(
  nextConfig: C | NextConfigFunction<C> = {} as C,
  options: WithTrayticOptions = {},
): WithTraytic<C> | WrappedFunction<C> {
  const ours = trayticRewrites(options); // checked now: a wrong host fails `next build` early
  if (typeof nextConfig === "function") {
    const build = nextConfig as NextConfigFunction<C>;
    return async (phase: string, context: { defaultConfig: C }) =>
      withRewrites(await build(phase, context), ours);
  }
  return withRewrites(nextConfig, ours);
}
