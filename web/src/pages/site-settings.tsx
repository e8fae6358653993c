/** One site's settings: name, domain, time zone, reporting currency, public sharing; links to
 * its goals and funnels, alerts and reports; and deleting it. */
import { useState } from "preact/hooks";
import { api, ApiError, type Organisation, type Site } from "../api";
import { navigate, onLinkClick } from "../router";

function timeZones(current: string): string[] {
  const zones: string[] = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] })
    .supportedValuesOf?.("timeZone") ?? [];
  return zones.includes(current) ? zones : [current, ...zones];
}

export function SiteSettings({
  org,
  site,
  canWrite,
  onSitesChanged,
}: {
  org: Organisation;
  site: Site;
  canWrite: boolean;
  onSitesChanged: () => Promise<unknown>;
}) {
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const shareUrl = `${location.origin}/share/${site.id}`;

  async function save(event: Event) {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    setError(null);
    setMessage(null);
    try {
      await api("PATCH", `/api/orgs/${org.id}/sites/${site.id}`, {
        name: String(data.get("name")).trim() || undefined,
        domain: String(data.get("domain")).trim(),
        timeZone: String(data.get("timeZone")),
        public: data.get("public") === "on",
        allowedHostnames: String(data.get("allowedHostnames"))
          .split(/[\s,]+/)
          .filter((host) => host !== ""),
        allowLocalhost: data.get("allowLocalhost") === "on",
        filterDatacenter: data.get("filterDatacenter") === "on",
        currency: String(data.get("currency")).trim().toUpperCase(),
      });
      await onSitesChanged();
      setMessage("Saved.");
    } catch (e) {
      setError(e instanceof ApiError ? `${e.message}${e.field ? ` (${e.field})` : ""}` : String(e));
    }
  }

  async function remove() {
    if (!confirm(`Delete ${site.domain}? Its dashboard goes away; the gateway stops accepting its beacons.`)) return;
    await api("DELETE", `/api/orgs/${org.id}/sites/${site.id}`);
    await onSitesChanged();
    navigate("/settings");
  }

  return (
    <section class="card">
      <h2>{site.name || site.domain}</h2>
      <form class="stack" onSubmit={save}>
        <fieldset disabled={!canWrite}>
          <label>
            Name <input name="name" value={site.name} />
          </label>
          <label>
            Domain <input name="domain" value={site.domain} required />
          </label>
          <label>
            Time zone
            <select name="timeZone" value={site.timeZone}>
              {timeZones(site.timeZone).map((zone) => (
                <option value={zone}>{zone}</option>
              ))}
            </select>
          </label>
          <label>
            Reporting currency{" "}
            <input
              name="currency"
              value={site.currency}
              required
              pattern="[A-Za-z]{3}"
              maxLength={3}
              size={4}
              aria-describedby="currency-help"
            />
          </label>
          <p id="currency-help" class="muted small">
            Revenue goals report in this currency (ISO 4217, e.g. EUR), converted from whatever
            currency each purchase was paid in with the exchange rates the operator set.
          </p>
          <label class="toggle">
            <input type="checkbox" name="public" checked={site.public} /> Public: anyone with the
            link can read the dashboard
          </label>
          {site.public && (
            <p>
              Share link: <a href={shareUrl}>{shareUrl}</a>
            </p>
          )}
          <label>
            Other hostnames
            <textarea
              name="allowedHostnames"
              rows={3}
              aria-describedby="hostnames-help"
              value={site.allowedHostnames.join("\n")}
            />
          </label>
          <p id="hostnames-help" class="muted small">
            Beacons are kept only from pages on {site.domain}, its subdomains and these hosts,
            one per line (<code>*.example.com</code> for every subdomain). Others are dropped,
            so a copied snippet cannot spend your quota.
          </p>
          <label class="toggle">
            <input type="checkbox" name="allowLocalhost" checked={site.allowLocalhost} /> Accept
            beacons from localhost (while developing)
          </label>
          <label class="toggle">
            <input type="checkbox" name="filterDatacenter" checked={site.filterDatacenter} /> Drop
            beacons from hosting and cloud networks (servers, not visitors)
          </label>
          <div class="actions">
            <button type="submit">Save</button>
            <button type="button" class="link danger" onClick={remove}>
              Delete site
            </button>
          </div>
        </fieldset>
      </form>
      <p class="links">
        <a href={`/settings/sites/${site.id}/goals`} onClick={(e) => onLinkClick(e, `/settings/sites/${site.id}/goals`)}>
          Goals and funnels
        </a>{" "}
        ·{" "}
        <a href={`/settings/sites/${site.id}/alerts`} onClick={(e) => onLinkClick(e, `/settings/sites/${site.id}/alerts`)}>
          Traffic alerts
        </a>{" "}
        ·{" "}
        <a href={`/settings/sites/${site.id}/reports`} onClick={(e) => onLinkClick(e, `/settings/sites/${site.id}/reports`)}>
          Email reports
        </a>
      </p>
      {message && <p role="status">{message}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
