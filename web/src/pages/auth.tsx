/** Log in and sign up: both set the session cookie, then the app reloads who is signed in. */
import { useState } from "preact/hooks";
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
      await api("POST", `/api/auth/${mode}`, body);
      navigate("/", true);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "Something went wrong; try again.");
    } finally {
      setBusy(false);
    }
  }

  const login = mode === "login";
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
