/** The signed-in frame: organisation and site switchers, and the page the URL names. */
import { useEffect, useState } from "preact/hooks";
import { api, type Me, type Site } from "../api";
import { FunnelPage } from "../components/funnel";
import { navigate, onLinkClick, useLocation } from "../router";
import { AccountSettings } from "./account";
import { Dashboard } from "./dashboard";
import { Settings } from "./settings";

const ORG_KEY = "traytic.org";

export function Shell({
  me,
  onSignOut,
  onMeChanged,
}: {
  me: Me;
  onSignOut: () => void;
  onMeChanged: () => void;
}) {
  const { path } = useLocation();
  const siteMatch = path.match(/^\/sites\/([^/]+)/);
  const funnelMatch = path.match(/^\/sites\/[^/]+\/funnels\/([^/]+)/);
  const [orgId, setOrgId] = useState(() => {
    const saved = localStorage.getItem(ORG_KEY);
    return me.organisations.find((o) => o.id === saved)?.id ?? me.organisations[0]?.id ?? "";
  });
  const [sites, setSites] = useState<Site[] | null>(null);

  const current = me.organisations.find((o) => o.id === orgId);
  // The organisation requires two-factor sign-in and this person has not turned it on: the
  // API refuses its pages (403), so say why and where to turn it on instead.
  const blocked = Boolean(current?.requireTwoFactor && !me.twoFactor);
  const loadSites = () =>
    orgId && !blocked
      ? api<Site[]>("GET", `/api/orgs/${orgId}/sites`).then(setSites)
      : Promise.resolve(setSites([]));
  useEffect(() => {
    setSites(null);
    void loadSites();
  }, [orgId, blocked]);

  const site = siteMatch ? sites?.find((s) => s.id === siteMatch[1]) : undefined;
  useEffect(() => {
    if (!sites) return;
    if (path === "/") {
      navigate(sites.length ? `/sites/${sites[0].id}` : "/settings", true);
    }
  }, [sites, path]);

  function switchOrg(id: string) {
    localStorage.setItem(ORG_KEY, id);
    setOrgId(id);
    navigate("/");
  }

  async function signOut() {
    await api("POST", "/api/auth/logout").catch(() => undefined);
    onSignOut();
    navigate("/login", true);
  }

  const org = me.organisations.find((o) => o.id === orgId);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="topbar">
        <a class="brand" href="/" onClick={(e) => onLinkClick(e, "/")}>
          Traytic
        </a>
        {me.organisations.length > 1 && (
          <select
            aria-label="Organisation"
            value={orgId}
            onChange={(e) => switchOrg((e.target as HTMLSelectElement).value)}
          >
            {me.organisations.map((o) => (
              <option value={o.id}>{o.name}</option>
            ))}
          </select>
        )}
        {sites && sites.length > 0 && (
          <select
            aria-label="Site"
            value={site?.id ?? ""}
            onChange={(e) => navigate(`/sites/${(e.target as HTMLSelectElement).value}`)}
          >
            {!site && <option value="">Choose a site</option>}
            {sites.map((s) => (
              <option value={s.id}>{s.name || s.domain}</option>
            ))}
          </select>
        )}
        <span class="spacer" />
        <nav aria-label="Account" class="account">
          <a
            href="/settings"
            aria-current={path.startsWith("/settings") && path !== "/settings/account" ? "page" : undefined}
            onClick={(e) => onLinkClick(e, "/settings")}
          >
            Settings
          </a>
          <a
            href="/settings/account"
            aria-current={path === "/settings/account" ? "page" : undefined}
            onClick={(e) => onLinkClick(e, "/settings/account")}
          >
            Account
          </a>
          <button type="button" class="link" onClick={signOut}>
            Log out
          </button>
        </nav>
      </header>
      {path === "/settings/account" ? (
        <AccountSettings onChanged={onMeChanged} />
      ) : blocked ? (
        <main class="page" id="main" tabIndex={-1}>
          <p class="error" role="alert" data-two-factor-required>
            {current?.name} requires two-factor sign-in: turn it on in{" "}
            <a href="/settings/account" onClick={(e) => onLinkClick(e, "/settings/account")}>
              your account settings
            </a>{" "}
            to use this organisation.
          </p>
        </main>
      ) : sites === null && siteMatch && !funnelMatch ? (
        // The figures need only the site's id, which the URL holds: they are on their way
        // (main.tsx) while the sites load, and the name fills in when those arrive.
        <Dashboard site={{ id: siteMatch[1], name: "", domain: "" }} />
      ) : sites === null ? (
        <p class="loading">Loading…</p>
      ) : path.startsWith("/settings") ? (
        <Settings org={org} sites={sites} onSitesChanged={loadSites} />
      ) : site && funnelMatch ? (
        <FunnelPage siteId={site.id} funnelId={funnelMatch[1]} orgId={orgId} />
      ) : site ? (
        <Dashboard site={site} />
      ) : siteMatch ? (
        <main class="page" id="main" tabIndex={-1}>
          <p>This site does not exist in {org?.name ?? "this organisation"}.</p>
        </main>
      ) : null}
    </div>
  );
}
