/** A site's dashboard: period, filters, KPI cards, the chart, breakdown panels, engagement,
 * errors, live and vitals. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, stats, type Overview, type Site, type Timeseries } from "../api";
import { Chart } from "../components/chart";
import { Engagement, Errors } from "../components/engagement";
import { Goals } from "../components/goals";
import { Kpis } from "../components/kpis";
import { Live } from "../components/live";
import { Panel, PANELS } from "../components/panel";
import { Segments } from "../components/segments";
import { Snippet } from "../components/snippet";
import { Vitals } from "../components/vitals";
import {
  activeFilters,
  customRange,
  FILTER_LABELS,
  period,
  PERIODS,
  previousQuery,
  statsQuery,
  withParam,
  withParams,
} from "../filters";
import { countryName } from "../format";
import { navigate, useLocation } from "../router";

export function Dashboard({
  site,
  readOnly = false,
}: {
  site: Pick<Site, "id" | "name" | "domain"> & { organisationId?: string };
  readOnly?: boolean;
}) {
  const { path, query } = useLocation();
  const apiQuery = statsQuery(query);
  const [overview, setOverview] = useState<Overview | null>(null);
  const [series, setSeries] = useState<Timeseries | null>(null);
  const [previous, setPrevious] = useState<Timeseries | null>(null);
  const compare = query.get("compare") === "1";
  const [error, setError] = useState<string | null>(null);
  // The panels below mount once the key figures are in: their dozen reports would otherwise
  // queue beside the overview in the server (chDB answers one query at a time) and the figures
  // people look at first would come last.
  const [panelsOn, setPanelsOn] = useState(false);

  useEffect(() => {
    let current = true;
    setError(null);
    const figures = stats<Overview>(site.id, "overview", apiQuery);
    // The key figures paint when they come, not with the chart: chDB answers one query at a
    // time, so the series arrives a query later (bench/first_paint.py). A failure is said below.
    figures.then((o) => current && setOverview(o)).catch(() => undefined);
    Promise.all([figures, stats<Timeseries>(site.id, "timeseries", apiQuery)])
      .then(async ([o, t]) => {
        if (!current) return;
        setPanelsOn(true);
        let p: Timeseries | null = null;
        if (compare) {
          const before = previousQuery(query, o.previousRange);
          p = await stats<Timeseries>(site.id, "timeseries", before.query);
          if (before.keep) p = { ...p, buckets: p.buckets.filter((b) => before.keep!(b.start)) };
        }
        if (!current) return;
        // Both at once: the chart never pairs this period with another period's previous.
        setSeries(t);
        setPrevious(p);
      })
      .catch((e) => {
        if (!current) return;
        setPanelsOn(true);
        if (readOnly && e instanceof ApiError && (e.status === 404 || e.status === 401)) {
          setError("This dashboard is not public, or the site does not exist.");
        } else setError(e instanceof ApiError ? e.message : String(e));
      });
    return () => {
      current = false;
    };
  }, [site.id, apiQuery, compare]);

  const setQuery = (key: string, value: string | null) => navigate(path + withParam(query, key, value));
  const range = customRange(query);
  const today = new Date().toLocaleDateString("en-CA"); // YYYY-MM-DD
  function choosePeriod(value: string) {
    if (value === "custom") {
      const start = new Date(Date.now() - 6 * 86400_000).toLocaleDateString("en-CA");
      navigate(path + withParams(query, { period: null, from: start, to: today }));
    } else navigate(path + withParams(query, { period: value, from: null, to: null }));
  }
  const setRange = (key: "from" | "to", value: string) =>
    value && navigate(path + withParams(query, { period: null, [key]: value }), true);
  const filters = activeFilters(query);
  const empty = overview !== null && overview.pageviews.value === 0 && overview.events.value === 0;

  return (
    <main class="page" id="main" tabIndex={-1}>
      <div class="toolbar">
        <h1>{site.name || site.domain}</h1>
        <Live siteId={site.id} />
        <span class="spacer" />
        <label class="period">
          <span class="sr-only">Period</span>
          <select
            aria-label="Period"
            value={period(query)}
            onChange={(e) => choosePeriod((e.target as HTMLSelectElement).value)}
          >
            {PERIODS.map((p) => (
              <option value={p.value}>{p.label}</option>
            ))}
            <option value="custom">Custom range…</option>
          </select>
        </label>
        <label class="toggle">
          <input
            type="checkbox"
            checked={compare}
            onChange={(e) => setQuery("compare", (e.target as HTMLInputElement).checked ? "1" : null)}
          />{" "}
          Compare
        </label>
        <label class="toggle" title="Add the history imported from other tools (whole days)">
          <input
            type="checkbox"
            checked={query.get("imported") === "1"}
            onChange={(e) => setQuery("imported", (e.target as HTMLInputElement).checked ? "1" : null)}
          />{" "}
          Imported data
        </label>
        <a
          class="export"
          href={`/api/events/${encodeURIComponent(site.id)}/export?${apiQuery}`}
          download
          title="Every report of this view as CSV files in a ZIP"
        >
          Export CSV
        </a>
        {range && (
          <span class="range">
            <input
              type="date"
              aria-label="From"
              value={range.from}
              max={range.to}
              onChange={(e) => setRange("from", (e.target as HTMLInputElement).value)}
            />
            –
            <input
              type="date"
              aria-label="To"
              value={range.to}
              min={range.from}
              max={today}
              onChange={(e) => setRange("to", (e.target as HTMLInputElement).value)}
            />
          </span>
        )}
      </div>
      {!readOnly && site.organisationId && (
        <Segments
          orgId={site.organisationId}
          siteId={site.id}
          selected={query.get("segment")}
          filters={filters}
          onChange={(changes) => navigate(path + withParams(query, changes))}
        />
      )}
      {filters.length > 0 && (
        <ul class="chips" aria-label="Filters">
          {filters.map(([key, value]) => (
            <li class="chip">
              <span>
                {FILTER_LABELS[key]}: <b>{key === "country" ? countryName(value) : value}</b>
              </span>
              <button
                aria-label={`Remove filter ${FILTER_LABELS[key]} ${value}`}
                onClick={() => setQuery(key, null)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {overview?.sampled && (
        <p class="sampled" role="note">
          {filters.length > 0
            ? `Estimated from ${Math.round(overview.sampled * 100)}% of visitors: this filtered` +
              " report covers more events than the server reads in full."
            : `Visits, bounce rate, visit duration and entry and exit pages are estimated from` +
              ` ${Math.round(overview.sampled * 100)}% of visitors: this period covers more` +
              " events than the server reads in full."}{" "}
          <button type="button" class="link" onClick={() => setQuery("sampling", "exact")}>
            Show exact figures
          </button>
        </p>
      )}
      {overview?.importsIncluded === false && (
        <p class="muted small" role="status">
          Imported data is left out: it holds daily totals, which filters cannot narrow.
        </p>
      )}
      <Kpis overview={overview} />
      {empty && filters.length === 0 && !readOnly ? (
        <section class="card empty">
          <h2>No data yet</h2>
          <p>Add the tracker to {site.domain}; visits show up here within seconds.</p>
          <Snippet siteId={site.id} />
        </section>
      ) : (
        <>
          <section class="card">
            <Chart series={series} previous={compare ? previous : null} />
          </section>
          {panelsOn && (
            <div class="panels">
              <Goals
                siteId={site.id}
                orgId={readOnly ? null : (site.organisationId ?? null)}
                apiQuery={apiQuery}
                onFilter={(changes) => navigate(path + withParams(query, changes))}
              />
              {PANELS.map((panel) => (
                <Panel
                  panel={panel}
                  siteId={site.id}
                  apiQuery={apiQuery}
                  filters={filters}
                  onFilter={(changes) => navigate(path + withParams(query, changes))}
                />
              ))}
              <Engagement siteId={site.id} apiQuery={apiQuery} />
              <Errors
                siteId={site.id}
                apiQuery={apiQuery}
                onFilter={(changes) => navigate(path + withParams(query, changes))}
              />
            </div>
          )}
          {panelsOn && <Vitals siteId={site.id} apiQuery={apiQuery} />}
        </>
      )}
    </main>
  );
}
