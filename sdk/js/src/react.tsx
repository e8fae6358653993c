/**
 * `@traytic/analytics/react`: `<Analytics siteId="..." />` for React single-page apps. Route
 * changes are counted through the History API, which React Router and similar routers use.
 */

import { useEffect } from "react";
import { type InitOptions, init } from "./index";

export { pageview, track } from "./index";

export type AnalyticsProps = InitOptions;

/** Starts tracking when it mounts; renders nothing. Props are read once. */
export function Analytics(props: AnalyticsProps): null {
  useEffect(() => {
    init(props);
    // Read once on purpose: there is one tracker per page.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return null;
}
