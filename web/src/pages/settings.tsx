/** The organisation's settings: its sites (create one, get its snippet) and its API keys. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type ApiKey, type Organisation, type Site } from "../api";
import { Billing } from "../components/billing";
import { Members } from "../components/members";
import { GoalSettings } from "../components/goal-settings";
import { Alerts, Deliveries, Reports } from "../components/notifications";
import { Snippet } from "../components/snippet";
import { navigate, onLinkClick, useLocation } from "../router";
import { Imports } from "../components/imports";
import { SiteSettings } from "./site-settings";

export function Settings({
  org,
  sites,
  onSitesChanged,
}: {
  org: Organisation | undefined;
  sites: Site[];
  onSitesChanged: () => Promise<unknown>;
}) {
  const { path } = useLocation();
  if (!org) return <main class="page" id="main" tabIndex={-1}><p>You are not in any organisation.</p></main>;
  const canWrite = org.role !== "viewer";
  const siteMatch = path.match(/^\/settings\/sites\/([^/]+)/);
  const site = siteMatch && sites.find((s) => s.id === siteMatch[1]);
  if (path === "/settings/billing") {
    // Where a payment provider sends the customer back after the checkout.
    return (
      <main class="page settings" id="main" tabIndex={-1}>
        <a href="/settings" onClick={(e) => onLinkClick(e, "/settings")}>
          ← {org.name}
        </a>
        <p class="muted" role="status">
          Your plan changes as soon as the payment provider confirms the payment.
        </p>
        <Billing org={org} canWrite={canWrite} />
      </main>
    );
  }
  const section = path.match(/^\/settings\/sites\/[^/]+\/(alerts|reports|goals)$/)?.[1];
  if (site && section) {
    // The alert and report pages of a site: what is set up, and what was sent.
    const back = `/settings/sites/${site.id}`;
    return (
      <main class="page settings" id="main" tabIndex={-1}>
        <a href={back} onClick={(e) => onLinkClick(e, back)}>
          ← {site.name || site.domain}
        </a>
        {section === "goals" ? (
          <GoalSettings org={org} site={site} canWrite={canWrite} />
        ) : section === "alerts" ? (
          <Alerts org={org} site={site} canWrite={canWrite} />
        ) : (
          <Reports org={org} site={site} canWrite={canWrite} />
        )}
        {section !== "goals" && <Deliveries org={org} site={site} />}
      </main>
    );
  }
  if (site) {
    return (
      <main class="page settings" id="main" tabIndex={-1}>
        <a href="/settings" onClick={(e) => onLinkClick(e, "/settings")}>
          ← {org.name}
        </a>
        <SiteSettings org={org} site={site} canWrite={canWrite} onSitesChanged={onSitesChanged} />
        {canWrite && <Imports org={org} site={site} />}
      </main>
    );
  }
  return (
    <main class="page settings" id="main" tabIndex={-1}>
      <h1>{org.name}</h1>
      <Sites org={org} sites={sites} canWrite={canWrite} onSitesChanged={onSitesChanged} />
      <Members org={org} canWrite={canWrite} />
      {org.role === "owner" && <TwoFactorPolicy org={org} />}
      {canWrite && <Keys org={org} />}
      <Billing org={org} canWrite={canWrite} />
    </main>
  );
}

function Sites({
  org,
  sites,
  canWrite,
  onSitesChanged,
}: {
  org: Organisation;
  sites: Site[];
  canWrite: boolean;
  onSitesChanged: () => Promise<unknown>;
}) {
  const [created, setCreated] = useState<Site | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function create(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    try {
      const site = await api<Site>("POST", `/api/orgs/${org.id}/sites`, {
        domain: String(data.get("domain")).trim(),
      });
      form.reset();
      setCreated(site);
      await onSitesChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  return (
    <section class="card">
      <h2>Sites</h2>
      {sites.length === 0 && <p class="muted">No sites yet: add the first one.</p>}
      <ul class="list">
        {sites.map((site) => (
          <li>
            <a href={`/sites/${site.id}`} onClick={(e) => (e.preventDefault(), navigate(`/sites/${site.id}`))}>
              {site.name || site.domain}
            </a>{" "}
            <code class="muted">{site.id}</code>{" "}
            <a
              href={`/settings/sites/${site.id}`}
              onClick={(e) => onLinkClick(e, `/settings/sites/${site.id}`)}
            >
              Edit
            </a>
          </li>
        ))}
      </ul>
      {canWrite && (
        <form class="inline" onSubmit={create}>
          <label>
            Domain <input name="domain" required placeholder="example.com" />
          </label>
          <button type="submit">Add site</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {created && (
        <div class="created">
          <p>
            <b>{created.domain}</b> is ready. Install the tracker:
          </p>
          <Snippet siteId={created.id} />
        </div>
      )}
    </section>
  );
}

function Keys({ org }: { org: Organisation }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [secret, setSecret] = useState<ApiKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => api<ApiKey[]>("GET", `/api/orgs/${org.id}/keys`).then(setKeys);
  useEffect(() => void load(), [org.id]);

  async function create(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    setError(null);
    try {
      const key = await api<ApiKey>("POST", `/api/orgs/${org.id}/keys`, {
        name: String(new FormData(form).get("name")).trim(),
      });
      form.reset();
      setSecret(key);
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  async function revoke(key: ApiKey) {
    if (!confirm(`Revoke the key "${key.name}"? Scripts using it stop working.`)) return;
    setError(null);
    try {
      await api("DELETE", `/api/orgs/${org.id}/keys/${key.id}`);
      if (secret?.id === key.id) setSecret(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
    await load();
  }

  return (
    <section class="card">
      <h2>API keys</h2>
      {secret && (
        <div class="secret" role="status">
          <p>
            The key <b>{secret.name}</b>, shown this once: store it now.
          </p>
          <pre>
            <code>{secret.key}</code>
          </pre>
        </div>
      )}
      {keys?.length === 0 && <p class="muted">No API keys yet: create one for scripts that read the stats API.</p>}
      {keys?.some((key) => key.needsReview && !key.revokedAt) && (
        <p class="warn" role="status">
          Keys marked <span class="badge">review</span> were created by someone who has left the
          organisation and may still hold them: revoke those you no longer need.
        </p>
      )}
      <div class="table-scroll">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Last used</th>
            <th scope="col"><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {(keys ?? []).filter((key) => !key.revokedAt).map((key) => (
            <tr data-key={key.name} data-review={key.needsReview ? "true" : undefined}>
              <td>
                {key.name}{" "}
                {key.needsReview && (
                  <span class="badge" title="Created by someone who is no longer a member">
                    review
                  </span>
                )}
              </td>
              <td>
                <code>{key.prefix}…</code>
              </td>
              <td>{key.lastUsedAt ? new Date(key.lastUsedAt).toLocaleString() : "never"}</td>
              <td>
                <button class="link danger" aria-label={`Revoke ${key.name}`} onClick={() => revoke(key)}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      <form class="inline" onSubmit={create}>
        <label>
          Name <input name="name" required placeholder="deploy" />
        </label>
        <button type="submit">Create key</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}

/** Owners require two-factor sign-in of every member (once they use it themselves). */
function TwoFactorPolicy({ org }: { org: Organisation }) {
  const [required, setRequired] = useState(org.requireTwoFactor);
  const [error, setError] = useState<string | null>(null);

  async function change(event: Event) {
    const wanted = (event.target as HTMLInputElement).checked;
    setError(null);
    try {
      const out = await api<Organisation>("PATCH", `/api/orgs/${org.id}`, {
        requireTwoFactor: wanted,
      });
      setRequired(out.requireTwoFactor);
    } catch (e) {
      (event.target as HTMLInputElement).checked = required;
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  return (
    <section class="card">
      <h2>Security</h2>
      <label>
        <input type="checkbox" checked={required} onChange={change} /> Require two-factor sign-in
        of every member
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
