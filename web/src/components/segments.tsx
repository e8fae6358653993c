/** The segment menu beside the filter chips: pick a saved segment (its filters apply to every
 * report, `segment=<id>`), or save the current filters as a new one (personal; admins may share
 * it with the organisation from the API). Segments hold Stats API v2 filters. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";

interface Segment {
  id: string;
  name: string;
  shared: boolean;
}

/** Dashboard filter → its v2 dimension (and how an empty value reads there). */
const V2_DIMENSIONS: Record<string, string> = {
  path: "event:page",
  hostname: "event:hostname",
  source: "visit:source",
  referrer: "visit:referrer",
  channel: "visit:channel",
  utmSource: "visit:utm_source",
  utmMedium: "visit:utm_medium",
  utmCampaign: "visit:utm_campaign",
  utmTerm: "visit:utm_term",
  utmContent: "visit:utm_content",
  country: "visit:country",
  city: "visit:city",
  device: "visit:device",
  browser: "visit:browser",
  os: "visit:os",
  screen: "visit:screen",
  event: "event:name",
};

/** The v2 filters of the dashboard's filters, or null when one has no v2 form. */
export function v2Filters(filters: [string, string][]): unknown[] | null {
  const found: unknown[] = [];
  for (const [key, value] of filters) {
    if (key === "prop") {
      const [name, ...rest] = value.split(":");
      found.push(["is", `event:props:${name}`, [rest.join(":")]]);
    } else if (key in V2_DIMENSIONS) {
      const blank = key === "source" || key === "referrer" ? "Direct / None" : "(not set)";
      found.push(["is", V2_DIMENSIONS[key], [value || blank]]);
    } else return null;
  }
  return found;
}

export function Segments({
  orgId,
  siteId,
  selected,
  filters,
  onChange,
}: {
  orgId: string;
  siteId: string;
  selected: string | null;
  filters: [string, string][];
  onChange: (changes: Record<string, string | null>) => void;
}) {
  const base = `/api/orgs/${orgId}/sites/${siteId}/segments`;
  const [segments, setSegments] = useState<Segment[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Segment[]>("GET", `${base}/`).then(setSegments, () => setSegments([]));
  }, [base]);

  async function save() {
    const asV2 = v2Filters(filters);
    if (!asV2) return setError("These filters cannot be saved as a segment (goal or region).");
    const name = prompt("Name of the segment");
    if (!name) return;
    try {
      const made = await api<Segment>("POST", `${base}/`, { name, filters: asV2 });
      setSegments([...segments, made]);
      const cleared: Record<string, string | null> = Object.fromEntries(filters.map(([key]) => [key, null]));
      onChange({ ...cleared, segment: made.id });
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  return (
    <span class="segments">
      <select
        aria-label="Segment"
        value={selected ?? ""}
        onChange={(e) => onChange({ segment: (e.target as HTMLSelectElement).value || null })}
      >
        <option value="">All visitors</option>
        {segments.map((segment) => (
          <option value={segment.id}>
            {segment.name}
            {segment.shared ? " (shared)" : ""}
          </option>
        ))}
      </select>
      {filters.length > 0 && (
        <button type="button" class="link" onClick={save}>
          Save as segment
        </button>
      )}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
