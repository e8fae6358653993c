/** How pages were read and what visitors did beyond them: time on page and scroll depth per page,
 * outbound links, downloads and not-found pages by URL (tabs of one panel), and the errors they
 * met, grouped by message and page. */
import { useEffect, useState } from "preact/hooks";
import { stats, type EngagementReport, type ErrorsReport, type LinkRow } from "../api";
import { eventTime, formatCompact, formatDuration, formatInteger, formatPercent } from "../format";
import { Tabs } from "./tabs";

const LINK_TABS: { label: string; field: "outboundLinks" | "downloads" | "notFound"; hint: string }[] = [
  { label: "Outbound links", field: "outboundLinks", hint: "data-outbound-links" },
  { label: "Downloads", field: "downloads", hint: "data-file-downloads" },
  { label: "Not found", field: "notFound", hint: "data-not-found on your 404 page" },
];

/** Loads one report, again whenever the site or the query changes; null while loading. */
function useReport<T>(siteId: string, report: string, apiQuery: string): [T | null, boolean] {
  const [data, setData] = useState<T | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let current = true;
    setFailed(false);
    stats<T>(siteId, report, `${apiQuery}&limit=10`)
      .then((d) => current && setData(d))
      .catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [siteId, report, apiQuery]);
  return [data, failed];
}

export function Engagement({ siteId, apiQuery }: { siteId: string; apiQuery: string }) {
  const [tab, setTab] = useState(0);
  const [data, failed] = useReport<EngagementReport>(siteId, "engagement", apiQuery);
  let body;
  if (failed) body = <p class="error">Could not load this panel.</p>;
  else if (data === null) body = <p class="muted">Loading…</p>;
  else if (tab === 0) {
    body =
      data.pages.length === 0 ? (
        <p class="muted">No engagement yet: the tracker sends it when a visitor leaves or hides a page.</p>
      ) : (
        <table class="goal-table engagement-pages">
          <thead>
            <tr>
              <th scope="col">Page</th>
              <th scope="col">Views</th>
              <th scope="col">Time on page</th>
              <th scope="col">Scroll depth</th>
            </tr>
          </thead>
          <tbody>
            {data.pages.map((page) => (
              <tr data-page={page.value}>
                <th scope="row" class="row-label">{page.value}</th>
                <td>{formatInteger(page.views)}</td>
                <td data-value={page.timeOnPage}>{formatDuration(page.timeOnPage)}</td>
                <td data-value={page.scrollDepth}>{formatPercent(page.scrollDepth / 100)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      );
  } else {
    const { field, hint } = LINK_TABS[tab - 1];
    body = <Links rows={data[field]} hint={hint} />;
  }
  return (
    <section class="card panel" data-panel="engagement" aria-labelledby="panel-engagement">
      <Tabs
        label="Engagement"
        head={<h2 id="panel-engagement">Engagement</h2>}
        tabs={["Time on page", ...LINK_TABS.map((t) => t.label)]}
        selected={tab}
        onSelect={setTab}
      >
        {body}
      </Tabs>
    </section>
  );
}

function Links({ rows, hint }: { rows: LinkRow[]; hint: string }) {
  if (rows.length === 0) {
    return (
      <p class="muted">
        Nothing in this period (the tracker sends these with <code>{hint}</code>).
      </p>
    );
  }
  const max = Math.max(1, ...rows.map((r) => r.events));
  return (
    <>
      <div class="rows-head muted" aria-hidden="true">
        <span>URL</span>
        <span>Visitors · Clicks</span>
      </div>
      <ul class="rows">
      {rows.map((row) => (
        <li class="row" data-count={row.events} aria-label={`${row.value}: ${formatInteger(row.events)} clicks by ${formatInteger(row.visitors)} visitors`}>
          <span class="bar" style={{ width: `${(row.events / max) * 100}%` }} />
          <span class="row-label">{row.value}</span>
          <span class="row-rate muted" title="Visitors">
            {formatCompact(row.visitors)}
          </span>
          <span class="row-count">{formatCompact(row.events)}</span>
        </li>
      ))}
      </ul>
    </>
  );
}

/** A click on an error filters the dashboard to the visits that met it. */
export function Errors({
  siteId,
  apiQuery,
  onFilter,
}: {
  siteId: string;
  apiQuery: string;
  onFilter: (changes: Record<string, string>) => void;
}) {
  const [data, failed] = useReport<ErrorsReport>(siteId, "errors", apiQuery);
  let body;
  if (failed) body = <p class="error">Could not load this panel.</p>;
  else if (data === null) body = <p class="muted">Loading…</p>;
  else if (data.errors.length === 0) {
    body = (
      <p class="muted">
        No errors in this period (the tracker reports them with <code>data-track-errors</code>).
      </p>
    );
  } else {
    body = (
      <ul class="error-list">
        {data.errors.map((error) => (
          <li data-error={error.message} data-count={error.errors}>
            <button
              type="button"
              class="link error-message"
              title={error.source ? `thrown at ${error.source}` : undefined}
              aria-label={`${error.message}: filter by the visits that met it`}
              onClick={() => onFilter({ error: error.message })}
            >
              {error.message}
            </button>
            <div class="muted small">
              {error.page} · {formatInteger(error.errors)} {error.errors === 1 ? "time" : "times"} ·{" "}
              {formatInteger(error.visitors)} {error.visitors === 1 ? "visitor" : "visitors"} · last{" "}
              <span title={`first seen ${eventTime(error.firstSeen).toLocaleString()}`}>
                {eventTime(error.lastSeen).toLocaleString()}
              </span>
            </div>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <section class="card panel" data-panel="errors" aria-labelledby="panel-errors">
      <h2 id="panel-errors">Errors</h2>
      {body}
    </section>
  );
}
