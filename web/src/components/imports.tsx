/** A site's imports: upload an export of Plausible, Umami or Google Analytics 4 with a progress
 * bar (the upload, then the import job polled until it ends), the list of runs, and removing a
 * tool's imported data. Admins and owners only (the API answers 403 to others). */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, csrfToken, type Organisation, type Site } from "../api";

export interface ImportRun {
  run: string;
  source: string;
  fileName: string;
  status: string;
  progress: number;
  message: string;
  createdAt: string;
  firstDay: string | null;
  lastDay: string | null;
  skippedFrom: string | null;
  skippedTo: string | null;
  skippedDays: number;
  rows: number;
}

const SOURCES = [
  { value: "plausible", label: "Plausible (CSV export ZIP)" },
  { value: "umami", label: "Umami (data export CSV, or a ZIP of website_event.csv and session.csv)" },
  { value: "ga4", label: "Google Analytics 4 (CSV downloads with the Date dimension, or a ZIP of them)" },
];

/** POST the file with XMLHttpRequest: fetch cannot report upload progress. */
function uploadFile(url: string, file: File, onProgress: (share: number) => void): Promise<ImportRun> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("X-CSRF-Token", csrfToken());
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    request.onload = () => {
      const body = JSON.parse(request.responseText || "null");
      if (request.status === 202) resolve(body as ImportRun);
      else reject(new ApiError(request.status, body?.message ?? request.statusText, body?.field));
    };
    request.onerror = () => reject(new ApiError(0, "the upload failed (network)"));
    request.send(file);
  });
}

function describe(run: ImportRun): string {
  const range = run.firstDay ? `${run.firstDay} to ${run.lastDay}` : "";
  const skipped = run.skippedDays
    ? ` Skipped ${run.skippedFrom} to ${run.skippedTo}: the site has its own data on those days.`
    : "";
  return `${run.source}: ${run.status} ${range}${skipped}${run.status === "failed" ? ` ${run.message}` : ""}`;
}

export function Imports({ org, site }: { org: Organisation; site: Site }) {
  const base = `/api/orgs/${org.id}/sites/${site.id}/imports`;
  const [runs, setRuns] = useState<ImportRun[]>([]);
  const [source, setSource] = useState("plausible");
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<string | null>(null);
  const [share, setShare] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const refresh = () =>
    api<ImportRun[]>("GET", `${base}/`).then(setRuns, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  useEffect(() => {
    refresh();
  }, [base]);

  async function start(event: Event) {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setPhase("Uploading");
    setShare(0);
    try {
      const query = new URLSearchParams({ source, filename: file.name });
      let run = await uploadFile(`${base}/?${query}`, file, (s) => setShare(s * 0.5));
      setPhase("Importing");
      while (run.status === "reading" || run.status === "writing") {
        setShare(0.5 + run.progress * 0.5);
        await new Promise((resolve) => setTimeout(resolve, 500));
        run = await api<ImportRun>("GET", `${base}/${run.run}`);
      }
      setShare(1);
      setPhase(run.status === "done" ? "Imported" : null);
      if (run.status !== "done") setError(describe(run));
      await refresh();
    } catch (e) {
      setPhase(null);
      setError(e instanceof ApiError ? `${e.message}${e.field ? ` (${e.field})` : ""}` : String(e));
    }
  }

  async function remove(tool: string) {
    if (!confirm(`Remove the data imported from ${tool}? Reports stop showing it.`)) return;
    await api("DELETE", `${base}/${tool}`);
    await refresh();
  }

  const shown = new Set<string>();
  return (
    <section class="card" aria-labelledby="imports-title">
      <h2 id="imports-title">Import history</h2>
      <p class="muted small">
        Bring your history from the tool you leave. Imported days are kept apart from your own
        data and shown when "Imported data" is switched on in the dashboard; days on which the
        site already has data are skipped. Importing a tool again replaces what it brought.
      </p>
      <form class="stack" onSubmit={start}>
        <label>
          From
          <select value={source} onChange={(e) => setSource((e.target as HTMLSelectElement).value)}>
            {SOURCES.map((s) => (
              <option value={s.value}>{s.label}</option>
            ))}
          </select>
        </label>
        <label>
          Export file
          <input
            type="file"
            accept=".zip,.csv"
            onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)}
          />
        </label>
        <div class="actions">
          <button type="submit" disabled={!file || phase === "Uploading" || phase === "Importing"}>
            Import
          </button>
        </div>
      </form>
      {phase && (
        <p role="status">
          {phase}{" "}
          <progress aria-label="Import progress" max={1} value={share}>
            {Math.round(share * 100)}%
          </progress>{" "}
          {Math.round(share * 100)}%
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {runs.length > 0 && (
        <ul class="imports">
          {runs.map((run) => {
            const first = run.status === "done" && !shown.has(run.source);
            if (run.status === "done") shown.add(run.source);
            return (
              <li>
                <span>
                  {new Date(run.createdAt).toLocaleString()} · {run.fileName} · {describe(run)}
                </span>{" "}
                {first && (
                  <button type="button" class="link danger" onClick={() => remove(run.source)}>
                    Remove
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
