/** Web Vitals: P75 coloured by web.dev's thresholds, P95 beside it, and the share of each rating. */
import { useEffect, useState } from "preact/hooks";
import { stats, type Vital } from "../api";
import { formatDecimal, formatInteger, formatPercent } from "../format";

const THRESHOLDS: Record<string, [number, number]> = {
  LCP: [2500, 4000],
  INP: [200, 500],
  CLS: [0.1, 0.25],
  FCP: [1800, 3000],
  TTFB: [800, 1800],
};
const ORDER = ["LCP", "INP", "CLS", "FCP", "TTFB"];

export function rating(metric: string, value: number): "good" | "ni" | "poor" {
  const [good, poor] = THRESHOLDS[metric] ?? [Infinity, Infinity];
  return value <= good ? "good" : value <= poor ? "ni" : "poor";
}

function show(metric: string, value: number): string {
  if (metric === "CLS") return formatDecimal(value);
  return value >= 1000 ? `${formatDecimal(value / 1000)} s` : `${formatInteger(value)} ms`;
}

export function Vitals({ siteId, apiQuery }: { siteId: string; apiQuery: string }) {
  const [overall, setOverall] = useState<Vital[] | null>(null);
  const [routes, setRoutes] = useState<Vital[]>([]);
  useEffect(() => {
    let current = true;
    stats<{ overall: Vital[]; routes: Vital[] }>(siteId, "vitals", apiQuery)
      .then((v) => {
        if (!current) return;
        setOverall(v.overall);
        setRoutes(v.routes);
      })
      .catch(() => current && setOverall([]));
    return () => {
      current = false;
    };
  }, [siteId, apiQuery]);

  const byMetric = new Map((overall ?? []).map((v) => [v.metric, v]));
  return (
    <section class="card vitals" aria-label="Web Vitals">
      <h2>Web Vitals</h2>
      {overall !== null && overall.length === 0 ? (
        <p class="muted">No Web Vitals yet: the tracker reports them as visitors use the site.</p>
      ) : (
        <div class="vitals-grid">
          {ORDER.map((metric) => {
            const v = byMetric.get(metric);
            return (
              <div class="vital" data-vital={metric}>
                <div class="kpi-label">{metric}</div>
                {v ? (
                  <>
                    <div class={`kpi-value rating-${rating(metric, v.p75)}`}>{show(metric, v.p75)}</div>
                    <div class="muted">
                      P75 · P95 <span class={`rating-${rating(metric, v.p95)}`}>{show(metric, v.p95)}</span>
                    </div>
                    <div class="shares" title={`${formatInteger(v.samples)} samples`} aria-hidden="true">
                      <span class="share good" style={{ flexGrow: v.good }} />
                      <span class="share ni" style={{ flexGrow: v.needsImprovement }} />
                      <span class="share poor" style={{ flexGrow: v.poor }} />
                    </div>
                    <div class="muted small">
                      {formatPercent(v.good)} good · {formatPercent(v.needsImprovement)} needs improvement ·{" "}
                      {formatPercent(v.poor)} poor
                    </div>
                  </>
                ) : (
                  <div class="kpi-value muted">–</div>
                )}
              </div>
            );
          })}
        </div>
      )}
      {routes.length > 0 && <RouteTable routes={routes} />}
    </section>
  );
}

/** P75 per route and metric; a column header sorts by it (worst first). */
function RouteTable({ routes }: { routes: Vital[] }) {
  const [sortBy, setSortBy] = useState("LCP");
  const byRoute = new Map<string, Map<string, Vital>>();
  for (const v of routes) {
    const route = v.route ?? "";
    if (!byRoute.has(route)) byRoute.set(route, new Map());
    byRoute.get(route)!.set(v.metric, v);
  }
  const rows = [...byRoute.entries()].sort(
    ([, a], [, b]) => (b.get(sortBy)?.p75 ?? -1) - (a.get(sortBy)?.p75 ?? -1),
  );
  return (
    <div class="table-scroll">
      <table class="table vitals-routes">
        <thead>
          <tr>
            <th>Route</th>
            {ORDER.map((metric) => (
              <th aria-sort={metric === sortBy ? "descending" : "none"}>
                <button type="button" class="link" aria-label={`Sort by ${metric} P75`} onClick={() => setSortBy(metric)}>
                  {metric}
                  {metric === sortBy ? " ↓" : ""}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([route, metrics]) => (
            <tr>
              <td>{route || "(none)"}</td>
              {ORDER.map((metric) => {
                const v = metrics.get(metric);
                return (
                  <td class={v ? `rating-${rating(metric, v.p75)}` : "muted"}>
                    {v ? show(metric, v.p75) : "–"}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
