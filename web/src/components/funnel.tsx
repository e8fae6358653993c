/** A funnel's page: a bar per step with the drop-off between them, the same figures as a table
 * (for keyboards and screen readers), a breakdown by the entry visit's source, channel, country
 * or device, and from each step a link to the dashboard of the visits that reached it. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, stats, type FunnelDef, type FunnelReport } from "../api";
import { period, PERIODS, statsQuery, withParams } from "../filters";
import { countryName, formatChange, formatInteger, formatPercent } from "../format";
import { navigate, onLinkClick, useLocation } from "../router";

const BREAKDOWNS = [
  { value: "", label: "No breakdown" },
  { value: "source", label: "Source" },
  { value: "channel", label: "Channel" },
  { value: "country", label: "Country" },
  { value: "device", label: "Device" },
];

export function FunnelPage({ siteId, funnelId, orgId }: { siteId: string; funnelId: string; orgId: string | null }) {
  const { path, query } = useLocation();
  const breakdown = query.get("breakdown") ?? "";
  const apiQuery = statsQuery(query) + (breakdown ? `&breakdown=${breakdown}&limit=20` : "");
  const [funnel, setFunnel] = useState<FunnelDef | null>(null);
  const [report, setReport] = useState<FunnelReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (orgId) api<FunnelDef>("GET", `/api/orgs/${orgId}/sites/${siteId}/funnels/${funnelId}`).then(setFunnel, () => {});
  }, [orgId, siteId, funnelId]);
  useEffect(() => {
    let current = true;
    setError(null);
    stats<FunnelReport>(siteId, `funnels/${funnelId}`, apiQuery)
      .then((r) => current && setReport(r))
      .catch((e) => current && setError(e instanceof ApiError ? e.message : String(e)));
    return () => {
      current = false;
    };
  }, [siteId, funnelId, apiQuery]);

  const steps = report?.steps ?? [];
  const first = Math.max(1, steps[0]?.visitors ?? 0);
  const back = `/sites/${siteId}${withParams(query, { breakdown: null })}`;
  const within = report
    ? report.windowMinutes === null
      ? "all steps within one visit"
      : `each step within ${report.windowMinutes} minutes of the first`
    : "";
  return (
    <main class="page funnel-page" id="main" tabIndex={-1}>
      <div class="toolbar">
        <a href={back} onClick={(e) => onLinkClick(e, back)}>
          ← Dashboard
        </a>
        <h1>{funnel?.name ?? "Funnel"}</h1>
        <span class="spacer" />
        <label class="period">
          <span class="sr-only">Period</span>
          <select
            aria-label="Period"
            value={period(query)}
            onChange={(e) =>
              navigate(path + withParams(query, { period: (e.target as HTMLSelectElement).value, from: null, to: null }))
            }
          >
            {PERIODS.map((p) => (
              <option value={p.value}>{p.label}</option>
            ))}
          </select>
        </label>
        <label>
          <span class="sr-only">Breakdown</span>
          <select
            aria-label="Breakdown"
            value={breakdown}
            onChange={(e) => navigate(path + withParams(query, { breakdown: (e.target as HTMLSelectElement).value || null }))}
          >
            {BREAKDOWNS.map((b) => (
              <option value={b.value}>{b.label}</option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {report && (
        <p class="muted">
          {within}; {formatPercent(report.conversionRate.value)} of those who began reached the end
          {formatChange(report.conversionRate.value, report.conversionRate.previous) &&
            ` (${formatChange(report.conversionRate.value, report.conversionRate.previous)} on the previous period)`}
          .
        </p>
      )}
      <section class="card">
        <ol class="funnel-bars" aria-hidden="true">
          {steps.map((step, index) => (
            <li class="funnel-step" data-step={index + 1}>
              <div class="funnel-bar-track">
                <div class="funnel-bar" style={{ height: `${(step.visitors / first) * 100}%` }} />
                {index > 0 && (
                  <div
                    class="funnel-drop"
                    style={{ height: `${(step.dropoff / first) * 100}%`, bottom: `${(step.visitors / first) * 100}%` }}
                  />
                )}
              </div>
              <div class="funnel-label">
                <b>{step.name}</b>
                <span>{formatInteger(step.visitors)}</span>
                <span class="muted">{formatPercent(step.conversionRate)}</span>
                {index > 0 && <span class="funnel-dropoff">−{formatInteger(step.dropoff)}</span>}
              </div>
            </li>
          ))}
        </ol>
        <table class="funnel-table">
          <caption>Visitors at each step</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Visitors</th>
              <th scope="col">From first step</th>
              <th scope="col">From previous step</th>
              <th scope="col">Dropped off</th>
              <th scope="col">Previous period</th>
              <th scope="col">Their sources</th>
            </tr>
          </thead>
          <tbody>
            {steps.map((step, index) => {
              const sources = `/sites/${siteId}${withParams(query, { breakdown: null, goal: step.goalId })}#panel-sources`;
              return (
                <tr>
                  <th scope="row">
                    {index + 1}. {step.name}
                  </th>
                  <td>{formatInteger(step.visitors)}</td>
                  <td>{formatPercent(step.conversionRate)}</td>
                  <td>{index ? formatPercent(step.stepRate) : "—"}</td>
                  <td>{index ? formatInteger(step.dropoff) : "—"}</td>
                  <td>{formatInteger(step.previous)}</td>
                  <td>
                    <a href={sources} onClick={(e) => onLinkClick(e, sources)}>
                      Sources of {step.name}
                    </a>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      {report?.segments && report.segments.length > 0 && (
        <section class="card">
          <table class="funnel-table">
            <caption>By {BREAKDOWNS.find((b) => b.value === breakdown)?.label.toLowerCase()} of the first visit</caption>
            <thead>
              <tr>
                <th scope="col">{BREAKDOWNS.find((b) => b.value === breakdown)?.label}</th>
                {steps.map((step) => (
                  <th scope="col">{step.name}</th>
                ))}
                <th scope="col">Converted</th>
              </tr>
            </thead>
            <tbody>
              {report.segments.map((segment) => (
                <tr>
                  <th scope="row">
                    {segment.value === "" ? "(none)" : breakdown === "country" ? countryName(segment.value) : segment.value}
                  </th>
                  {segment.visitors.map((n) => (
                    <td>{formatInteger(n)}</td>
                  ))}
                  <td>{formatPercent(segment.conversionRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </main>
  );
}
