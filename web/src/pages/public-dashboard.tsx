/** The read-only dashboard of a site marked public (`/share/{siteId}`): no login, no settings. */
import { Dashboard } from "./dashboard";

export function PublicDashboard({ siteId }: { siteId: string }) {
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="/">
          Traytic
        </a>
        <span class="muted">Public dashboard</span>
      </header>
      <Dashboard site={{ id: siteId, name: "", domain: siteId }} readOnly />
    </div>
  );
}
