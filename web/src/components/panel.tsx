/** A breakdown with tabs (pages, sources, locations, devices, events); a row click filters by it. */
import { useEffect, useState } from "preact/hooks";
import { stats, type CustomEvent, type Row } from "../api";
import { countryName, formatCompact, formatDuration, formatInteger, formatPercent } from "../format";
import { Tabs } from "./tabs";

interface Tab {
  label: string;
  field: string;
  /** The filter a row click sets; empty for a dimension the stats cannot filter by. */
  filter: string;
  metric?: "visitors" | "pageviews";
}
export interface PanelSpec {
  title: string;
  report: string;
  tabs: Tab[];
}

export const PANELS: PanelSpec[] = [
  {
    title: "Pages",
    report: "pages",
    tabs: [
      { label: "Pages", field: "pages", filter: "path" },
      { label: "Entry", field: "entryPages", filter: "path" },
      { label: "Exit", field: "exitPages", filter: "path" },
    ],
  },
  {
    title: "Sources",
    report: "sources",
    tabs: [
      { label: "Sources", field: "sources", filter: "source" },
      { label: "Referrers", field: "referrers", filter: "referrer" },
      { label: "Channels", field: "channels", filter: "channel" },
      { label: "UTM source", field: "utmSources", filter: "utmSource" },
      { label: "Medium", field: "utmMediums", filter: "utmMedium" },
      { label: "Campaign", field: "utmCampaigns", filter: "utmCampaign" },
    ],
  },
  {
    title: "Locations",
    report: "countries",
    tabs: [
      { label: "Countries", field: "countries", filter: "country" },
      { label: "Regions", field: "regions", filter: "region" },
      { label: "Cities", field: "cities", filter: "city" },
    ],
  },
  {
    title: "Devices",
    report: "devices",
    tabs: [
      { label: "Devices", field: "devices", filter: "device" },
      { label: "Browsers", field: "browsers", filter: "browser" },
      { label: "OS", field: "operatingSystems", filter: "os" },
      { label: "Screens", field: "screens", filter: "screen" },
    ],
  },
  {
    title: "Languages",
    report: "languages",
    tabs: [{ label: "Languages", field: "languages", filter: "" }],
  },
  {
    title: "Events",
    report: "events",
    tabs: [{ label: "Custom events", field: "events", filter: "event" }],
  },
];

interface Line {
  label: string;
  count: number;
  filter: [string, string] | null;
  /** With a goal filter: the share of the row's visitors who converted it. */
  rate?: number;
  /** Pages: time on page and scroll depth, when the tracker measured them. */
  detail?: string;
}

function lines(tab: Tab, data: Record<string, unknown>): Line[] {
  return ((data[tab.field] as Row[]) ?? []).map((row) => ({
    label: row.value === "" ? "(none)" : tab.filter === "country" ? countryName(row.value) : row.value,
    count: row.visitors,
    filter: row.value === "" || !tab.filter ? null : [tab.filter, row.value],
    rate: row.conversions?.conversionRate,
    detail:
      row.timeOnPage === undefined
        ? undefined
        : `${formatDuration(row.timeOnPage)} · ${formatPercent((row.scrollDepth ?? 0) / 100)} scrolled`,
  }));
}

type OnFilter = (changes: Record<string, string>) => void;

export function Panel({
  panel,
  siteId,
  apiQuery,
  filters,
  onFilter,
}: {
  panel: PanelSpec;
  siteId: string;
  apiQuery: string;
  filters: [string, string][];
  onFilter: OnFilter;
}) {
  const [tabIndex, setTabIndex] = useState(0);
  const [data, setData] = useState<Record<string, unknown> | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let current = true;
    setFailed(false);
    // With a goal filter, breakdowns also give each row's conversion rate of that goal.
    const goal = panel.report !== "events" ? filters.find(([key]) => key === "goal")?.[1] : undefined;
    const conversions = goal ? `&conversions=${encodeURIComponent(goal)}` : "";
    stats<Record<string, unknown>>(siteId, panel.report, `${apiQuery}&limit=10${conversions}`)
      .then((d) => current && setData(d))
      .catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [siteId, panel.report, apiQuery]);

  const tab = panel.tabs[tabIndex];
  const titleId = `panel-${panel.report}`;
  let body;
  if (failed) body = <p class="error">Could not load this panel.</p>;
  else if (data === null) body = <p class="muted">Loading…</p>;
  else if (panel.report === "events") {
    body = (
      <EventRows
        events={(data.events as CustomEvent[]) ?? []}
        filteredEvent={filters.find(([key]) => key === "event")?.[1] ?? null}
        onFilter={onFilter}
      />
    );
  } else body = <Rows heading={tab.label} rows={lines(tab, data)} onFilter={onFilter} />;
  return (
    <section class="card panel" data-panel={panel.report} aria-labelledby={titleId}>
      <Tabs
        label={panel.title}
        head={<h2 id={titleId}>{panel.title}</h2>}
        tabs={panel.tabs.map((t) => t.label)}
        selected={tabIndex}
        onSelect={setTabIndex}
      >
        {body}
      </Tabs>
    </section>
  );
}

function Rows({ heading, rows, onFilter }: { heading: string; rows: Line[]; onFilter: OnFilter }) {
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <>
      <div class="rows-head muted" aria-hidden="true">
        <span>{heading}</span>
        <span>Visitors</span>
      </div>
      {rows.length === 0 ? (
        <p class="muted">Nothing in this period.</p>
      ) : (
        <ul class="rows">
          {rows.map((row) => (
            <li>
              <button
                type="button"
                class="row"
                data-count={row.count}
                disabled={!row.filter}
                aria-label={`${row.label}: ${formatInteger(row.count)} visitors${row.filter ? ", filter by it" : ""}`}
                onClick={() => row.filter && onFilter({ [row.filter[0]]: row.filter[1] })}
              >
                <span class="bar" style={{ width: `${(row.count / max) * 100}%` }} />
                <span class="row-label">{row.label}</span>
                {row.detail && (
                  <span class="row-rate muted" title="Time on page · scroll depth">
                    {row.detail}
                  </span>
                )}
                {row.rate !== undefined && (
                  <span class="row-rate muted" title="Converted">
                    {formatPercent(row.rate)}
                  </span>
                )}
                <span class="row-count">{formatCompact(row.count)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** Custom events, each with its props grouped by key: a click on an event filters by it, a click
 * on a prop value filters by the event and that value. */
function EventRows({
  events,
  filteredEvent,
  onFilter,
}: {
  events: CustomEvent[];
  filteredEvent: string | null;
  onFilter: OnFilter;
}) {
  const [opened, setOpened] = useState<Record<string, boolean>>({});
  if (events.length === 0) {
    return (
      <p class="muted">
        No custom events in this period. Send one with <code>track("signup", {"{ plan: \"pro\" }"})</code>.
      </p>
    );
  }
  const max = Math.max(1, ...events.map((e) => e.visitors));
  return (
    <>
      <div class="rows-head muted" aria-hidden="true">
        <span>Event</span>
        <span>Visitors · Events</span>
      </div>
      <ul class="rows">
        {events.map((event) => {
          const open = opened[event.name] ?? (event.name === filteredEvent || events.length === 1);
          const keys = [...new Set(event.props.map((p) => p.key))];
          const propsId = `props-${encodeURIComponent(event.name)}`;
          return (
            <li class="event" data-event={event.name}>
              <div class="event-line">
                <button
                  type="button"
                  class="row"
                  data-count={event.visitors}
                  data-events={event.events}
                  aria-label={`${event.name}: ${formatInteger(event.visitors)} visitors, ${formatInteger(event.events)} events, filter by it`}
                  onClick={() => onFilter({ event: event.name })}
                >
                  <span class="bar" style={{ width: `${(event.visitors / max) * 100}%` }} />
                  <span class="row-label">{event.name}</span>
                  <span class="row-count">
                    {formatCompact(event.visitors)} <span class="muted">· {formatCompact(event.events)}</span>
                  </span>
                </button>
                {keys.length > 0 && (
                  <button
                    type="button"
                    class="disclose"
                    aria-expanded={open}
                    aria-controls={propsId}
                    aria-label={`Properties of ${event.name}`}
                    onClick={() => setOpened({ ...opened, [event.name]: !open })}
                  >
                    <span aria-hidden="true">{open ? "▾" : "▸"}</span>
                  </button>
                )}
              </div>
              {open && keys.length > 0 && (
                <div class="props" id={propsId}>
                  {keys.map((key) => {
                    const values = event.props.filter((p) => p.key === key);
                    const top = Math.max(1, ...values.map((p) => p.visitors));
                    return (
                      <div class="prop-group" data-prop-key={key}>
                        <h3 class="prop-key muted">{key}</h3>
                        <ul class="rows">
                          {values.map((p) => (
                            <li>
                              <button
                                type="button"
                                class="row prop"
                                data-prop={`${p.key}:${p.value}`}
                                data-count={p.visitors}
                                data-events={p.events}
                                aria-label={`${event.name}, ${p.key} ${p.value}: ${formatInteger(p.visitors)} visitors, filter by it`}
                                onClick={() => onFilter({ event: event.name, prop: `${p.key}:${p.value}` })}
                              >
                                <span class="bar" style={{ width: `${(p.visitors / top) * 100}%` }} />
                                <span class="row-label">{p.value === "" ? "(empty)" : p.value}</span>
                                <span class="row-count">
                                  {formatCompact(p.visitors)} <span class="muted">· {formatCompact(p.events)}</span>
                                </span>
                              </button>
                            </li>
                          ))}
                        </ul>
                      </div>
                    );
                  })}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
