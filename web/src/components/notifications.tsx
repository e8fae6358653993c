/** A site's traffic alerts and scheduled reports, their recipients (email, Slack, webhook) and
 * the messages sent, waiting or failed. Viewers read; admins and owners change them. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type GoalDef, type Organisation, type Site } from "../api";
import { formatInteger } from "../format";

interface Recipient {
  id: string;
  channel: "email" | "slack" | "webhook";
  target: string;
  timeZone: string;
  unsubscribed: boolean;
  nextReportAt: string | null;
  secret?: string | null;
}
interface Alert {
  id: string;
  name: string;
  kind: Kind;
  threshold: number;
  cooldownMinutes: number;
  goalId?: string | null;
  windowMinutes?: number | null;
  below?: boolean | null;
  enabled: boolean;
  firing: boolean;
  lastValue: number | null;
  lastFiredAt: string | null;
  recipients: Recipient[];
}
type Kind = "spike" | "drop" | "goal";

/** What an alert watches, in words. */
function rule(a: Alert, goals: GoalDef[]): string {
  if (a.kind === "spike") return `more than ${formatInteger(a.threshold)} visitors at once`;
  if (a.kind === "drop") return `below ${Math.round(a.threshold * 100)}% of a usual day`;
  const goal = goals.find((g) => g.id === a.goalId)?.name ?? "a goal";
  const side = a.below ? "fewer than" : "at least";
  return `${goal}: ${side} ${formatInteger(a.threshold)} conversions in ${a.windowMinutes} min`;
}

interface Report {
  id: string;
  name: string;
  frequency: "weekly" | "monthly";
  sendHour: number;
  enabled: boolean;
  recipients: Recipient[];
}
interface Delivery {
  id: string;
  alertId: string | null;
  reportId: string | null;
  channel: string;
  target: string;
  subject: string;
  status: string;
  attempts: number;
  lastError: string | null;
  late: boolean;
  createdAt: string;
  sentAt: string | null;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "never");

function message(e: unknown): string {
  if (!(e instanceof ApiError)) return String(e);
  return e.field ? `${e.message} (${e.field})` : e.message;
}

/** The recipient fields of a form, as the API takes them. */
function recipientsOf(data: FormData, timeZone?: string) {
  const list: { channel: string; target: string; timeZone?: string }[] = [];
  for (const email of String(data.get("emails") ?? "").split(/[\s,;]+/)) {
    if (email) list.push({ channel: "email", target: email, timeZone });
  }
  for (const channel of ["slack", "webhook"]) {
    const url = String(data.get(channel) ?? "").trim();
    if (url) list.push({ channel, target: url, timeZone });
  }
  return list;
}

function RecipientInputs() {
  return (
    <>
      <label>
        Email addresses <input name="emails" placeholder="ann@example.com, ops@example.com" />
      </label>
      <label>
        Slack incoming webhook URL{" "}
        <input name="slack" type="url" placeholder="https://hooks.slack.com/services/…" />
      </label>
      <label>
        Webhook URL (signed) <input name="webhook" type="url" placeholder="https://example.com/traytic" />
      </label>
    </>
  );
}

function Recipients({ list }: { list: Recipient[] }) {
  if (list.length === 0) return <span class="muted">nobody</span>;
  return (
    <ul class="recipients">
      {list.map((r) => (
        <li>
          <span class="badge">{r.channel}</span> {r.target}
          {r.unsubscribed && <span class="muted"> (unsubscribed)</span>}
          {r.secret && (
            <details>
              <summary>Signing secret</summary>
              <code>{r.secret}</code>
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}

function useList<T>(url: string): [T[] | null, () => void] {
  const [rows, setRows] = useState<T[] | null>(null);
  const load = () => void api<T[]>("GET", url).then(setRows).catch(() => setRows([]));
  useEffect(load, [url]);
  return [rows, load];
}

/** A list the API keeps at `url`, with a form that adds to it and a delete per row. */
function useEditable<T extends { id: string; name: string }>(url: string, noun: string) {
  const [rows, reload] = useList<T>(url);
  const [error, setError] = useState<string | null>(null);
  const add = (body: (data: FormData) => unknown) => async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    setError(null);
    try {
      await api("POST", url, body(new FormData(form)));
      form.reset();
      reload();
    } catch (e) {
      setError(message(e));
    }
  };
  async function remove(row: T) {
    if (!confirm(`Delete the ${noun} "${row.name}"?`)) return;
    await api("DELETE", `${url}/${row.id}`).catch((e) => setError(message(e)));
    reload();
  }
  return { rows, error, add, remove };
}

function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Alerts({ org, site, canWrite }: { org: Organisation; site: Site; canWrite: boolean }) {
  const { rows: alerts, error, add, remove } = useEditable<Alert>(
    `/api/orgs/${org.id}/sites/${site.id}/alerts`,
    "alert",
  );
  const [kind, setKind] = useState<Kind>("spike");
  const [goals] = useList<GoalDef>(`/api/orgs/${org.id}/sites/${site.id}/goals`);
  const create = add((data) => {
    const raw = Number(data.get("threshold"));
    const goal =
      kind === "goal"
        ? {
            goalId: String(data.get("goalId")) || null,
            windowMinutes: Number(data.get("windowMinutes")),
            below: data.get("below") === "on",
          }
        : {};
    return {
      kind,
      name: String(data.get("name")).trim(),
      threshold: kind === "drop" ? raw / 100 : raw,
      cooldownMinutes: Number(data.get("cooldown")),
      recipients: recipientsOf(data),
      ...goal,
    };
  });

  return (
    <section class="card" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Traffic alerts</h2>
      <p class="muted">
        A message when more people are on the site at once than you expect, when today is far
        quieter than usual for this weekday (a broken tracker looks like that too), or when a
        goal's conversions reach a level, or stop.
      </p>
      {alerts?.length === 0 && <p class="muted">No alerts yet.</p>}
      {alerts && alerts.length > 0 && (
        <div class="table-scroll">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Alert</th>
                <th scope="col">When</th>
                <th scope="col">State</th>
                <th scope="col">Recipients</th>
                {canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr data-alert={a.name}>
                  <td>{a.name}</td>
                  <td>
                    {rule(a, goals ?? [])}
                    <div class="muted small">at most one message per {a.cooldownMinutes} min</div>
                  </td>
                  <td>
                    {a.firing ? <b class="poor">firing</b> : "quiet"}
                    <div class="muted small">last sent {when(a.lastFiredAt)}</div>
                  </td>
                  <td>
                    <Recipients list={a.recipients} />
                  </td>
                  {canWrite && (
                    <td>
                      <button class="link danger" aria-label={`Delete ${a.name}`} onClick={() => remove(a)}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && (
        <form class="stack narrow" onSubmit={create} aria-label="New alert">
          <h3>New alert</h3>
          <label>
            Kind
            <select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as Kind)}>
              <option value="spike">Spike: visitors at once above</option>
              <option value="drop">Drop: today below a share of a usual weekday</option>
              <option value="goal">Goal: a goal's conversions in a window</option>
            </select>
          </label>
          {kind === "goal" && (
            <label>
              Goal
              <select name="goalId" aria-label="Goal" required>
                <option value="">Choose a goal</option>
                {(goals ?? []).map((g) => (
                  <option value={g.id}>{g.name}</option>
                ))}
              </select>
            </label>
          )}
          <label>
            {kind === "spike" ? "Visitors at once" : kind === "drop" ? "Share of the usual level (%)" : "Conversions"}
            <input key={kind} name="threshold" type="number" min={1} max={kind === "drop" ? 99 : undefined} required defaultValue={kind === "spike" ? "100" : kind === "drop" ? "50" : "1"} />
          </label>
          {kind === "goal" && (
            <>
              <label>
                Counted over the last (minutes) <input name="windowMinutes" type="number" required defaultValue="60" />
              </label>
              <label class="toggle">
                <input type="checkbox" name="below" /> Send when conversions fall below the threshold
                (instead of reaching it)
              </label>
            </>
          )}
          <label>
            Name <input name="name" placeholder="optional" />
          </label>
          <label>
            Cool-down (minutes) <input name="cooldown" type="number" min={1} defaultValue="60" />
          </label>
          <RecipientInputs />
          <button type="submit">Add alert</button>
        </form>
      )}
      <ErrorLine error={error} />
    </section>
  );
}

export function Reports({ org, site, canWrite }: { org: Organisation; site: Site; canWrite: boolean }) {
  const { rows: reports, error, add, remove } = useEditable<Report>(
    `/api/orgs/${org.id}/sites/${site.id}/reports`,
    "report",
  );
  const [zone, setZone] = useState(site.timeZone);
  const create = add((data) => ({
    name: String(data.get("name")).trim(),
    frequency: String(data.get("frequency")),
    sendHour: Number(data.get("hour")),
    recipients: recipientsOf(data, String(data.get("timeZone"))),
  }));

  const zones: string[] =
    (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  return (
    <section class="card" aria-labelledby="reports-title">
      <h2 id="reports-title">Email reports</h2>
      <p class="muted">
        The visitors, pages, sources and countries of the week (sent Mondays) or the month (sent on
        the 1st), against the period before, in each recipient's time zone.
      </p>
      {reports?.length === 0 && <p class="muted">No reports yet.</p>}
      {reports && reports.length > 0 && (
        <div class="table-scroll">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Report</th>
                <th scope="col">Schedule</th>
                <th scope="col">Recipients</th>
                {canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {reports.map((r) => (
                <tr data-report={r.name}>
                  <td>{r.name}</td>
                  <td>
                    {r.frequency === "weekly" ? "Mondays" : "the 1st of each month"} at{" "}
                    {String(r.sendHour).padStart(2, "0")}:00
                    <div class="muted small">
                      next {when(r.recipients.find((x) => x.nextReportAt)?.nextReportAt ?? null)}
                    </div>
                  </td>
                  <td>
                    <Recipients list={r.recipients} />
                  </td>
                  {canWrite && (
                    <td>
                      <button class="link danger" aria-label={`Delete ${r.name}`} onClick={() => remove(r)}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && (
        <form class="stack narrow" onSubmit={create} aria-label="New report">
          <h3>New report</h3>
          <label>
            Every
            <select name="frequency">
              <option value="weekly">week (Mondays)</option>
              <option value="monthly">month (on the 1st)</option>
            </select>
          </label>
          <label>
            At (local hour) <input name="hour" type="number" min={0} max={23} defaultValue="8" />
          </label>
          <label>
            Recipients' time zone
            <select name="timeZone" value={zone} onChange={(e) => setZone((e.target as HTMLSelectElement).value)}>
              {(zones.includes(site.timeZone) ? zones : [site.timeZone, ...zones]).map((z) => (
                <option value={z}>{z}</option>
              ))}
            </select>
          </label>
          <label>
            Name <input name="name" placeholder="optional" />
          </label>
          <RecipientInputs />
          <button type="submit">Add report</button>
        </form>
      )}
      <ErrorLine error={error} />
    </section>
  );
}

const STATUS: Record<string, string> = {
  sent: "good",
  failed: "poor",
  pending: "ni",
  sending: "ni",
  cancelled: "muted",
};

export function Deliveries({ org, site }: { org: Organisation; site: Site }) {
  const [rows, reload] = useList<Delivery>(`/api/orgs/${org.id}/sites/${site.id}/deliveries?limit=30`);
  return (
    <section class="card" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">
        Messages{" "}
        <button type="button" class="link small" onClick={reload}>
          Refresh
        </button>
      </h2>
      {rows?.length === 0 && <p class="muted">Nothing sent yet.</p>}
      {rows && rows.length > 0 && (
        <div class="table-scroll">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Message</th>
                <th scope="col">To</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr data-delivery={d.status}>
                  <td>
                    {d.subject}
                    <div class="muted small">{when(d.createdAt)}</div>
                  </td>
                  <td>
                    <span class="badge">{d.channel}</span> {d.target}
                  </td>
                  <td>
                    <b class={STATUS[d.status] ?? ""}>{d.status}</b>
                    {d.late && <span class="muted"> (late)</span>}
                    {d.lastError && <div class="muted small">{d.lastError}</div>}
                  </td>
                  <td>{d.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
