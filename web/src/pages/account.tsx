/** The signed-in person's own settings: two-factor sign-in (turn on with an authenticator
 * app, see the recovery codes once, renew them, turn it off). */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";

interface Status {
  enabled: boolean;
  recoveryCodesLeft: number;
}
interface Setup {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export function AccountSettings({ onChanged }: { onChanged: () => void }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [setup, setSetup] = useState<Setup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = () => api<Status>("GET", "/api/auth/two-factor").then(setStatus);
  useEffect(() => {
    void load();
  }, []);

  async function run(action: () => Promise<void>) {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  const codeOf = (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const code = String(new FormData(form).get("code")).trim();
    form.reset();
    return code;
  };

  const start = () =>
    run(async () => {
      setCodes(null);
      setSetup(await api<Setup>("POST", "/api/auth/two-factor/setup"));
    });
  const enable = (event: Event) =>
    run(async () => {
      const out = await api<{ recoveryCodes: string[] }>("POST", "/api/auth/two-factor/enable", {
        code: codeOf(event),
      });
      setSetup(null);
      setCodes(out.recoveryCodes);
      await load();
      onChanged();
    });
  const renew = (event: Event) =>
    run(async () => {
      const out = await api<{ recoveryCodes: string[] }>(
        "POST",
        "/api/auth/two-factor/recovery-codes",
        { code: codeOf(event) },
      );
      setCodes(out.recoveryCodes);
      await load();
    });
  const disable = (event: Event) =>
    run(async () => {
      await api("POST", "/api/auth/two-factor/disable", { code: codeOf(event) });
      setCodes(null);
      await load();
      onChanged();
    });

  return (
    <main class="page settings" id="main" tabIndex={-1}>
      <h1>Your account</h1>
      <section class="card" aria-labelledby="two-factor">
        <h2 id="two-factor">Two-factor sign-in</h2>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {codes && (
          <div class="created" data-recovery-codes>
            <p role="status">
              Save these recovery codes somewhere safe: each one signs you in once without your
              app. They are shown only now.
            </p>
            <pre>{codes.join("\n")}</pre>
          </div>
        )}
        {status === null ? (
          <p class="loading">Loading…</p>
        ) : status.enabled ? (
          <>
            <p data-two-factor="on">
              Two-factor sign-in is on. {status.recoveryCodesLeft} recovery codes left.
            </p>
            <form onSubmit={renew}>
              <label>
                Code for new recovery codes <input name="code" required autoComplete="one-time-code" />
              </label>
              <button type="submit">New recovery codes</button>
            </form>
            <form onSubmit={disable}>
              <label>
                Code to turn it off <input name="code" required autoComplete="one-time-code" />
              </label>
              <button type="submit">Turn off</button>
            </form>
          </>
        ) : setup ? (
          <form onSubmit={enable}>
            <p>Scan this code with your authenticator app, or type the secret into it.</p>
            <div class="qr" dangerouslySetInnerHTML={{ __html: setup.qrSvg }} />
            <p>
              Secret: <code data-secret>{setup.secret}</code>
            </p>
            <label>
              Code from your app
              <input name="code" required autoComplete="one-time-code" inputMode="numeric" />
            </label>
            <button type="submit">Confirm</button>
          </form>
        ) : (
          <>
            <p data-two-factor="off">
              Sign in with a code from an authenticator app as well as your password.
            </p>
            <button type="button" onClick={start}>
              Turn on two-factor sign-in
            </button>
          </>
        )}
      </section>
    </main>
  );
}
