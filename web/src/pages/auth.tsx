/** Log in and sign up. Logging in sets the session cookie, then the app reloads who is signed
 * in; signing up mails a link (the same answer whether the address has an account or not),
 * and the link's page makes the account and signs in. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { navigate, onLinkClick } from "../router";

export function AuthPage({
  mode,
  invited,
  onDone,
}: {
  mode: "login" | "signup";
  invited: boolean;
  onDone: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [mailed, setMailed] = useState<string | null>(null);
  // Single sign-on sends a person who has two-factor sign-in on back here with the pending
  // login in the fragment (never sent to a server): the code step takes it from there.
  const [pending, setPending] = useState<string | null>(() => {
    const token = new URLSearchParams(location.hash.slice(1)).get("twoFactor");
    if (token) history.replaceState(null, "", location.pathname);
    return token;
  });
  const [sso, setSso] = useState<{ enabled: boolean; name: string } | null>(null);
  useEffect(() => {
    api<{ enabled: boolean; name: string }>("GET", "/api/auth/oidc")
      .then(setSso)
      .catch(() => setSso(null));
  }, []);

  async function sendCode(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await api("POST", "/api/auth/login/code", {
        pendingToken: pending,
        code: String(form.get("code")).trim(),
      });
      navigate("/", true);
      onDone();
    } catch (e) {
      if (e instanceof ApiError && e.field === "pendingToken") setPending(null);
      setError(e instanceof ApiError ? e.message : "Something went wrong; try again.");
    } finally {
      setBusy(false);
    }
  }

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const body: Record<string, string> = {
      email: String(form.get("email")),
      password: String(form.get("password")),
    };
    if (mode === "signup" && form.get("name")) body.name = String(form.get("name"));
    setBusy(true);
    setError(null);
    try {
      if (mode === "signup") {
        const sent = await api<{ email: string; message: string }>("POST", "/api/auth/signup", body);
        setMailed(sent.email);
        return;
      }
      const answer = await api<{ twoFactorRequired?: boolean; pendingToken?: string }>(
        "POST",
        "/api/auth/login",
        body,
      );
      if (answer.twoFactorRequired && answer.pendingToken) {
        setPending(answer.pendingToken);
        return;
      }
      navigate("/", true);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "Something went wrong; try again.");
    } finally {
      setBusy(false);
    }
  }

  const login = mode === "login";
  if (pending) {
    return (
      <main class="auth">
        <h1 class="brand">Traytic</h1>
        <form class="card" onSubmit={sendCode}>
          <h2>Two-factor sign-in</h2>
          <p class="muted">Enter the code from your authenticator app, or a recovery code.</p>
          <label>
            Authentication code
            <input name="code" required autoComplete="one-time-code" inputMode="numeric" />
          </label>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            Verify
          </button>
        </form>
      </main>
    );
  }
  if (mailed) {
    return (
      <main class="auth">
        <h1 class="brand">Traytic</h1>
        <section class="card" role="status" data-signup-mailed>
          <h2>Check your email</h2>
          <p>
            We sent a mail to <strong>{mailed}</strong>: follow its link to finish signing up. If
            the address already has an account, the mail says so and where to log in.
          </p>
          <p class="muted">
            On a server without outgoing mail (the default), the mail is printed in the log of the
            Traytic service: ask its operator for the link.
          </p>
        </section>
      </main>
    );
  }
  return (
    <main class="auth">
      <h1 class="brand">Traytic</h1>
      <form class="card" onSubmit={submit}>
        <h2>{login ? "Log in" : "Create your account"}</h2>
        {invited && (
          <p class="muted" role="status">
            Log in or sign up with the invited email address to join the organisation.
          </p>
        )}
        {!login && (
          <label>
            Name <input name="name" autoComplete="name" />
          </label>
        )}
        <label>
          Email <input name="email" type="email" required autoComplete="email" />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            required
            minLength={login ? undefined : 8}
            autoComplete={login ? "current-password" : "new-password"}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {login ? "Log in" : "Sign up"}
        </button>
        {sso?.enabled && (
          // A full navigation: the provider's page, then back to the callback.
          <a class="button sso" href="/api/auth/oidc/start" data-sso>
            Sign in with {sso.name}
          </a>
        )}
        <p class="muted">
          {login ? "No account yet? " : "Already have an account? "}
          <a
            href={login ? "/signup" : "/login"}
            onClick={(e) => onLinkClick(e, login ? "/signup" : "/login")}
          >
            {login ? "Sign up" : "Log in"}
          </a>
        </p>
      </form>
    </main>
  );
}

/** `/signup/confirm#token=...`: the emailed link. Opening it makes nothing (a mail scanner may
 * open links); the person confirms with a click, which makes the account and signs in. */
export function ConfirmSignupPage({ onDone }: { onDone: () => void }) {
  const [token] = useState(() => new URLSearchParams(location.hash.slice(1)).get("token") ?? "");
  const [error, setError] = useState<string | null>(token ? null : "This link has no token.");
  const [busy, setBusy] = useState(false);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await api("POST", "/api/auth/signup/confirm", { token });
      history.replaceState(null, "", "/");
      navigate("/", true);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "Something went wrong; try again.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="auth">
      <h1 class="brand">Traytic</h1>
      <section class="card">
        <h2>Finish signing up</h2>
        <p>Confirm to create your account and sign in.</p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="button" disabled={busy || !token} onClick={confirm}>
          Create my account
        </button>
      </section>
    </main>
  );
}
