/** Web Vitals through the `web-vitals` library, loaded apart from the core to keep it small. */

import { type Metric, onCLS, onFCP, onINP, onLCP, onTTFB } from "web-vitals";
import type { VitalName } from "./types";

/**
 * Report each metric once per page view: web-vitals may report CLS or INP again on a later
 * hide, but the wire has no metric id to deduplicate by, so only a metric's first report counts.
 * A back/forward-cache restore starts new metrics (new ids), which are reported again.
 */
export function observeVitals(report: (name: VitalName, value: number) => void): void {
  const reported = new Set<string>();
  const onMetric = (metric: Metric): void => {
    if (reported.has(metric.id)) return;
    reported.add(metric.id);
    report(metric.name as VitalName, metric.value);
  };
  onCLS(onMetric);
  onFCP(onMetric);
  onINP(onMetric);
  onLCP(onMetric);
  onTTFB(onMetric);
}
