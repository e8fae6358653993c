/**
 * `@traytic/analytics/next`: `<Analytics siteId="..." />` for the Next.js App Router. Route
 * changes come from `usePathname()`/`useSearchParams()` rather than History API patching,
 * because Next.js keeps its own reference to the original `pushState`.
 */

import { usePathname, useSearchParams } from "next/navigation";
import { Suspense, useEffect } from "react";
import { type InitOptions, init, pageview } from "./index";

export { pageview, track } from "./index";

export type AnalyticsProps = Omit<InitOptions, "spa" | "hashRouting">;

function RouteChanges(): null {
  const pathname = usePathname();
  const searchParams = useSearchParams();
  useEffect(() => {
    // The first run repeats init()'s own page view, which the tracker ignores (same URL).
    pageview();
  }, [pathname, searchParams]);
  return null;
}

/** Put it in the root layout; it starts tracking on mount and renders nothing. Props are read once. */
export function Analytics(props: AnalyticsProps) {
  useEffect(() => {
    init({ ...props, spa: false });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  // useSearchParams() needs a Suspense boundary, or a statically rendered page falls back to
  // client rendering up to the nearest one.
  return (
    <Suspense fallback={null}>
      <RouteChanges />
    </Suspense>
  );
}
