/** The site's goals with their conversions (a click filters by the converting visits), and its
 * funnels, each a link to its page. */
import { useEffect, useState } from "preact/hooks";
import { api, stats, type FunnelDef, type GoalsReport } from "../api";
import { formatInteger, formatPercent } from "../format";
import { onLinkClick } from "../router";

export function formatMoney(value: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 2 }).format(value);
}

export function Goals({
  siteId,
  orgId,
  apiQuery,
  onFilter,
}: {
  siteId: string;
  orgId: string | null;
  apiQuery: string;
  onFilter: (changes: Record<string, string>) => void;
}) {
  const [report, setReport] = useState<GoalsReport | null>(null);
  const [funnels, setFunnels] = useState<FunnelDef[]>([]);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let current = true;
    setFailed(false);
    stats<GoalsReport>(siteId, "goals", apiQuery)
      .then((r) => current && setReport(r))
      .catch(() => current && setFailed(true));
    if (orgId) {
      api<FunnelDef[]>("GET", `/api/orgs/${orgId}/sites/${siteId}/funnels`)
        .then((f) => current && setFunnels(f))
        .catch(() => current && setFunnels([]));
    }
    return () => {
      current = false;
    };
  }, [siteId, orgId, apiQuery]);

  if (failed) return null;
  const goals = report?.goals ?? [];
  const currency = report?.money.currency ?? "USD";
  const max = Math.max(1, ...goals.map((g) => g.uniqueConversions.value));
  const manage = `/settings/sites/${siteId}/goals`;
  return (
    <section class="card panel goals" aria-labelledby="goals-title" data-panel="goals">
      <div class="panel-head">
        <h2 id="goals-title">Goals</h2>
        {orgId && (
          <a href={manage} onClick={(e) => onLinkClick(e, manage)} class="small">
            Manage goals and funnels
          </a>
        )}
      </div>
      {report === null ? (
        <p class="muted">Loading…</p>
      ) : goals.length === 0 ? (
        <p class="muted">
          No goals yet. Add one under <i>Manage goals and funnels</i> (admins), with{" "}
          <code>traytic goal create</code> or the API.
        </p>
      ) : (
        <table class="goal-table">
          <caption class="sr-only">Conversions of each goal in this period</caption>
          <thead>
            <tr>
              <th scope="col">Goal</th>
              <th scope="col">Converted</th>
              <th scope="col">Conversions</th>
              <th scope="col">Rate</th>
              <th scope="col">Revenue</th>
            </tr>
          </thead>
          <tbody>
            {goals.map((goal) => (
              <tr data-goal={goal.id}>
                <th scope="row">
                  <button
                    type="button"
                    class="row"
                    aria-label={`${goal.name}: ${formatInteger(goal.uniqueConversions.value)} converted visitors, filter by them`}
                    onClick={() => onFilter({ goal: goal.id })}
                  >
                    <span class="bar" style={{ width: `${(goal.uniqueConversions.value / max) * 100}%` }} />
                    <span class="row-label">{goal.name}</span>
                  </button>
                </th>
                <td>{formatInteger(goal.uniqueConversions.value)}</td>
                <td>{formatInteger(goal.totalConversions.value)}</td>
                <td>{formatPercent(goal.conversionRate.value)}</td>
                <td>{goal.revenue ? formatMoney(goal.revenue.value, currency) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {funnels.length > 0 && (
        <>
          <h3>Funnels</h3>
          <ul class="funnel-links">
            {funnels.map((funnel) => {
              const url = `/sites/${siteId}/funnels/${funnel.id}${location.search}`;
              return (
                <li>
                  <a href={url} onClick={(e) => onLinkClick(e, url)}>
                    {funnel.name}
                  </a>{" "}
                  <span class="muted">
                    {funnel.steps.map((s) => s.name).join(" → ")}
                  </span>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}
