/** The dashboard's entry: who is signed in decides between the auth pages and the app. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { api, ApiError, prefetchStats, type Me } from "./api";
import { statsQuery } from "./filters";
import { navigate, useLocation } from "./router";
import { AuthPage, ConfirmSignupPage } from "./pages/auth";
import { Shell } from "./pages/shell";
import { PublicDashboard } from "./pages/public-dashboard";

const INVITE_KEY = "traytic.invite";

// An invitation link (`/invite#token=...`) keeps its token for after the login or signup;
// opening it joins nothing: the signed-in person accepts (or dismisses) it with a click.
if (location.pathname === "/invite") {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) sessionStorage.setItem(INVITE_KEY, token);
  history.replaceState(null, "", "/login");
}

// A dashboard opened by its URL asks for its key figures at once, beside `/api/auth/me`: the
// answers wait for the Dashboard (measured by bench/first_paint.py: the chain me → sites →
// overview was most of the time to the first figures).
const opened = location.pathname.match(/^\/sites\/([^/]+)\/?$/);
if (opened) {
  const query = statsQuery(new URLSearchParams(location.search));
  const siteId = decodeURIComponent(opened[1]);
  prefetchStats(siteId, "overview", query);
  prefetchStats(siteId, "timeseries", query);
}

function App() {
  const { path } = useLocation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [inviteError, setInviteError] = useState<string | null>(null);
  const [invite, setInvite] = useState<string | null>(sessionStorage.getItem(INVITE_KEY));

  const refresh = () =>
    api<Me>("GET", "/api/auth/me")
      .then(setMe)
      .catch((error) => {
        if (error instanceof ApiError && error.status === 401) setMe(null);
        else throw error;
      });
  useEffect(() => {
    void refresh();
    const signedOut = () => setMe(null);
    window.addEventListener("traytic:signed-out", signedOut);
    return () => window.removeEventListener("traytic:signed-out", signedOut);
  }, []);

  const shared = path.match(/^\/share\/([^/]+)/);
  if (shared) return <PublicDashboard siteId={decodeURIComponent(shared[1])} />;
  const settle = () => {
    sessionStorage.removeItem(INVITE_KEY);
    setInvite(null);
  };
  const accept = () => {
    if (!invite) return;
    api("POST", "/api/invitations/accept", { token: invite })
      .then(() => {
        settle();
        return refresh();
      })
      .catch((e) => {
        settle();
        setInviteError(e instanceof ApiError ? e.message : String(e));
      });
  };

  if (me === undefined) return <p class="loading">Loading…</p>;
  const authPath = path === "/login" || path === "/signup" || path === "/signup/confirm";
  if (path === "/signup/confirm" && (me === null || !me.user)) {
    return <ConfirmSignupPage onDone={refresh} />;
  }
  if (me === null || !me.user) {
    if (!authPath) {
      navigate("/login", true);
      return null;
    }
    return (
      <AuthPage
        mode={path === "/signup" ? "signup" : "login"}
        invited={sessionStorage.getItem(INVITE_KEY) !== null}
        onDone={refresh}
      />
    );
  }
  if (authPath) {
    navigate("/", true);
    return null;
  }
  return (
    <>
      {invite && (
        <p class="banner" role="status" data-invitation>
          You were invited to join an organisation.{" "}
          <button type="button" onClick={accept}>
            Accept the invitation
          </button>{" "}
          <button type="button" class="link" onClick={settle}>
            Dismiss
          </button>
        </p>
      )}
      {inviteError && (
        <p class="error banner" role="alert">
          The invitation could not be accepted: {inviteError}
        </p>
      )}
      <Shell me={me} onSignOut={() => setMe(null)} onMeChanged={() => void refresh()} />
    </>
  );
}

render(<App />, document.getElementById("app")!);
