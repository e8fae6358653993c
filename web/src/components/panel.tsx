/** A breakdown with tabs (pages, sources, locations, devices, events); a row click filters by it. */
import { useEffect, useState } from "preact/hooks";
import { stats, type CustomEvent, type Row } from "../api";
import { countryName, formatCompact } from "../format";

interface Tab {
  label: string;
  field: string;
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
    title: "Events",
    report: "events",
    tabs: [{ label: "Custom events", field: "events", filter: "event" }],
  },
];

interface Line {
  label: string;
  count: number;
  filter: [string, string] | null;
  nested?: boolean;
}

function lines(report: string, tab: Tab, data: Record<string, unknown>): Line[] {
  if (report === "events") {
    return ((data.events as CustomEvent[]) ?? []).flatMap((event) => [
      { label: event.name, count: event.visitors, filter: ["event", event.name] as [string, string] },
      ...event.props.map((p) => ({
        label: `${p.key}: ${p.value}`,
        count: p.visitors,
        filter: ["prop", `${p.key}:${p.value}`] as [string, string],
        nested: true,
      })),
    ]);
  }
  return ((data[tab.field] as Row[]) ?? []).map((row) => ({
    label: row.value === "" ? "(none)" : tab.filter === "country" ? countryName(row.value) : row.value,
    count: row.visitors,
    filter: row.value === "" ? null : [tab.filter, row.value],
  }));
}

export function Panel({
  panel,
  siteId,
  apiQuery,
  onFilter,
}: {
  panel: PanelSpec;
  siteId: string;
  apiQuery: string;
  onFilter: (key: string, value: string) => void;
}) {
  const [tabIndex, setTabIndex] = useState(0);
  const [data, setData] = useState<Record<string, unknown> | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let current = true;
    setFailed(false);
    stats<Record<string, unknown>>(siteId, panel.report, `${apiQuery}&limit=10`)
      .then((d) => current && setData(d))
      .catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [siteId, panel.report, apiQuery]);

  const tab = panel.tabs[tabIndex];
  const rows = data ? lines(panel.report, tab, data) : [];
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <section class="card panel" data-panel={panel.report}>
      <div class="panel-head">
        <h2>{panel.title}</h2>
        {panel.tabs.length > 1 && (
          <div class="tabs" role="tablist">
            {panel.tabs.map((t, i) => (
              <button role="tab" aria-selected={i === tabIndex} onClick={() => setTabIndex(i)}>
                {t.label}
              </button>
            ))}
          </div>
        )}
      </div>
      <div class="rows-head muted">
        <span>{tab.label}</span>
        <span>Visitors</span>
      </div>
      {failed ? (
        <p class="error">Could not load this panel.</p>
      ) : data === null ? (
        <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted">Nothing in this period.</p>
      ) : (
        <ul class="rows">
          {rows.map((row) => (
            <li class={row.nested ? "nested" : ""}>
              <button
                class="row"
                data-count={row.count}
                disabled={!row.filter}
                title={row.filter ? `Filter by ${row.label}` : undefined}
                onClick={() => row.filter && onFilter(...row.filter)}
              >
                <span class="bar" style={{ width: `${(row.count / max) * 100}%` }} />
                <span class="row-label">{row.label}</span>
                <span class="row-count">{formatCompact(row.count)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
