/** The overview's seven numbers, each with its change against the previous period. */
import { useEffect } from "preact/hooks";
import type { Metric, Overview } from "../api";
import {
  formatChange,
  formatCompact,
  formatDecimal,
  formatDuration,
  formatPercent,
} from "../format";

type MetricKey = Exclude<keyof Overview, "range" | "previousRange" | "importsIncluded" | "sampled">;

const CARDS: { key: MetricKey; label: string; format: (n: number) => string; lowerIsBetter?: boolean }[] = [
  { key: "visitors", label: "Visitors", format: formatCompact },
  { key: "visits", label: "Visits", format: formatCompact },
  { key: "pageviews", label: "Pageviews", format: formatCompact },
  { key: "viewsPerVisit", label: "Views per visit", format: formatDecimal },
  { key: "bounceRate", label: "Bounce rate", format: formatPercent, lowerIsBetter: true },
  { key: "visitDuration", label: "Visit duration", format: formatDuration },
  { key: "engagedTime", label: "Engaged time", format: formatDuration },
];

/** Marked once per page load when the first numbers are on screen: the first meaningful paint,
 * read back with `performance.getEntriesByName(FIRST_NUMBERS)` (a browser test holds its budget). */
export const FIRST_NUMBERS = "traytic:first-numbers";

export function Kpis({ overview }: { overview: Overview | null }) {
  useEffect(() => {
    const unmarked = () => performance.getEntriesByName(FIRST_NUMBERS).length === 0;
    // After the frame that shows them is painted.
    if (overview && unmarked()) {
      requestAnimationFrame(() => setTimeout(() => unmarked() && performance.mark(FIRST_NUMBERS)));
    }
  }, [overview]);
  return (
    <section class="kpis" aria-label="Key figures">
      {CARDS.map(({ key, label, format, lowerIsBetter }) => {
        const metric: Metric | undefined = overview?.[key];
        const change = metric ? formatChange(metric.value, metric.previous) : null;
        const up = metric ? metric.value > metric.previous : false;
        const good = lowerIsBetter ? !up : up;
        return (
          <div class="kpi card" data-kpi={key}>
            <div class="kpi-label">{label}</div>
            <div class="kpi-value" data-value={metric?.value ?? ""}>
              {metric ? format(metric.value) : "–"}
            </div>
            {change && (
              <div
                class={`kpi-change ${change === "new" ? "" : good ? "good" : "bad"}`}
                title={metric ? `previous period: ${format(metric.previous)}` : undefined}
              >
                {change === "new" ? "new" : change} <span class="muted">vs previous</span>
              </div>
            )}
          </div>
        );
      })}
    </section>
  );
}
