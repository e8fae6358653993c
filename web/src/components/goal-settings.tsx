/** A site's goals and funnels, managed: admins and owners create, edit and delete them; viewers
 * see the same lists without the forms. A goal is a query over the stored events, so a change
 * applies to every report at once, past included. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type FunnelDef, type GoalDef, type Organisation, type Site } from "../api";
import { onLinkClick } from "../router";

const KINDS: { value: GoalDef["kind"]; label: string; match: string; hint: string }[] = [
  {
    value: "pageview",
    label: "Page visit",
    match: "Path pattern",
    hint: "/signup, /blog/* (one segment), /docs/** (anything below)",
  },
  { value: "event", label: "Custom event", match: "Event name", hint: "as sent by track(\"signup\")" },
  {
    value: "revenue",
    label: "Revenue",
    match: "Event name",
    hint: "a custom event sent with { revenue: { amount, currency } }",
  },
];
const MAX_STEPS = 8;

function message(e: unknown): string {
  if (!(e instanceof ApiError)) return String(e);
  return e.field ? `${e.message} (${e.field})` : e.message;
}

/** Adding, editing (one row at a time) and deleting the rows the API keeps at `url`. */
function useManaged<T extends { id: string; name: string }>(url: string, onChanged: () => void) {
  const [editing, setEditing] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  async function act(run: () => Promise<unknown>, done: string, after: () => void) {
    setError(null);
    try {
      await run();
      setStatus(done);
      after();
      onChanged();
    } catch (e) {
      setError(message(e));
    }
  }
  const save = (form: HTMLFormElement, body: { name: string }, after: () => void) =>
    act(
      () => (editing ? api("PATCH", `${url}/${editing.id}`, body) : api("POST", url, body)),
      editing ? `Saved ${body.name}.` : `Added ${body.name}.`,
      () => {
        form.reset();
        after();
      },
    );
  const remove = (row: T, question: string, after: () => void) =>
    confirm(question) ? act(() => api("DELETE", `${url}/${row.id}`), `Deleted ${row.name}.`, after) : undefined;
  return { editing, setEditing, error, setError, status, save, remove };
}

function RowActions({ name, onEdit, onDelete }: { name: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <td class="actions">
      <button type="button" class="link" onClick={onEdit} aria-label={`Edit ${name}`}>
        Edit
      </button>{" "}
      <button type="button" class="link danger" onClick={onDelete} aria-label={`Delete ${name}`}>
        Delete
      </button>
    </td>
  );
}

function FormActions({ noun, editing, onCancel }: { noun: string; editing: boolean; onCancel: () => void }) {
  return (
    <div class="actions">
      <button type="submit">{editing ? `Save ${noun}` : `Add ${noun}`}</button>
      {editing && (
        <button type="button" class="link" onClick={onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}

function Feedback({ status, error }: { status: string | null; error: string | null }) {
  return (
    <>
      {status && <p role="status">{status}</p>}
      <ErrorLine error={error} />
    </>
  );
}

function describe(goal: GoalDef): string {
  const kind = KINDS.find((k) => k.value === goal.kind)?.label ?? goal.kind;
  const prop = goal.propKey !== null ? ` with ${goal.propKey} = ${goal.propValue ?? ""}` : "";
  return `${kind}: ${goal.match}${prop}`;
}

function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function GoalSettings({ org, site, canWrite }: { org: Organisation; site: Site; canWrite: boolean }) {
  const base = `/api/orgs/${org.id}/sites/${site.id}`;
  const [goals, setGoals] = useState<GoalDef[] | null>(null);
  const [funnels, setFunnels] = useState<FunnelDef[] | null>(null);
  const reload = () => {
    void api<GoalDef[]>("GET", `${base}/goals`).then(setGoals, () => setGoals([]));
    void api<FunnelDef[]>("GET", `${base}/funnels`).then(setFunnels, () => setFunnels([]));
  };
  useEffect(reload, [base]);
  return (
    <>
      <GoalList base={base} goals={goals} canWrite={canWrite} onChanged={reload} siteId={site.id} />
      <FunnelList base={base} goals={goals ?? []} funnels={funnels} canWrite={canWrite} onChanged={reload} siteId={site.id} />
    </>
  );
}

function GoalList({
  base,
  goals,
  canWrite,
  onChanged,
  siteId,
}: {
  base: string;
  goals: GoalDef[] | null;
  canWrite: boolean;
  onChanged: () => void;
  siteId: string;
}) {
  const { editing, setEditing, error, setError, status, save, remove } = useManaged<GoalDef>(
    `${base}/goals`,
    onChanged,
  );
  const [kind, setKind] = useState<GoalDef["kind"]>("pageview");
  const chosen = KINDS.find((k) => k.value === kind) ?? KINDS[0];

  function edit(goal: GoalDef | null) {
    setEditing(goal);
    setKind(goal?.kind ?? "pageview");
    setError(null);
  }

  function submit(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const propKey = String(data.get("propKey") ?? "").trim();
    const withProp = kind !== "pageview" && propKey !== "";
    const body = {
      name: String(data.get("name")).trim(),
      kind,
      match: String(data.get("match")).trim(),
      propKey: withProp ? propKey : null,
      propValue: withProp ? String(data.get("propValue") ?? "") : null,
    };
    void save(form, body, () => edit(null));
  }

  const question = (goal: GoalDef) => `Delete the goal "${goal.name}"? Its conversions leave every report.`;
  return (
    <section class="card" aria-labelledby="goal-list-title" data-section="goals">
      <h2 id="goal-list-title">Goals</h2>
      <p class="muted">
        A goal counts the visits that reached a page or sent a custom event, in every report and
        for everything already stored. Their conversions are on the{" "}
        <a href={`/sites/${siteId}`} onClick={(e) => onLinkClick(e, `/sites/${siteId}`)}>
          dashboard
        </a>.
      </p>
      {goals?.length === 0 && <p class="muted">No goals yet.</p>}
      {goals && goals.length > 0 && (
        <div class="table-scroll">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Goal</th>
                <th scope="col">Converts on</th>
                {canWrite && (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {goals.map((goal) => (
                <tr data-goal={goal.name}>
                  <td>{goal.name}</td>
                  <td>
                    <code>{describe(goal)}</code>
                  </td>
                  {canWrite && (
                    <RowActions
                      name={goal.name}
                      onEdit={() => edit(goal)}
                      onDelete={() => remove(goal, question(goal), () => editing?.id === goal.id && edit(null))}
                    />
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && (
        <form class="stack" onSubmit={submit} key={editing?.id ?? "new"} aria-labelledby="goal-form-title">
          <h3 id="goal-form-title">{editing ? `Edit ${editing.name}` : "Add a goal"}</h3>
          <label>
            Name <input name="name" required maxLength={100} defaultValue={editing?.name ?? ""} />
          </label>
          <label>
            Kind
            <select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as GoalDef["kind"])}>
              {KINDS.map((k) => (
                <option value={k.value}>{k.label}</option>
              ))}
            </select>
          </label>
          <label>
            {chosen.match}{" "}
            <input name="match" required aria-describedby="goal-match-help" defaultValue={editing?.match ?? ""} />
          </label>
          <p id="goal-match-help" class="muted small">
            {chosen.hint}
          </p>
          {kind !== "pageview" && (
            <div class="row-inputs">
              <label>
                Prop (optional) <input name="propKey" defaultValue={editing?.propKey ?? ""} placeholder="plan" />
              </label>
              <label>
                equal to <input name="propValue" defaultValue={editing?.propValue ?? ""} placeholder="pro" />
              </label>
            </div>
          )}
          <FormActions noun="goal" editing={editing !== null} onCancel={() => edit(null)} />
        </form>
      )}
      <Feedback status={status} error={error} />
    </section>
  );
}

function FunnelList({
  base,
  goals,
  funnels,
  canWrite,
  onChanged,
  siteId,
}: {
  base: string;
  goals: GoalDef[];
  funnels: FunnelDef[] | null;
  canWrite: boolean;
  onChanged: () => void;
  siteId: string;
}) {
  const { editing, setEditing, error, setError, status, save, remove } = useManaged<FunnelDef>(
    `${base}/funnels`,
    onChanged,
  );
  const [steps, setSteps] = useState<string[]>(["", ""]);
  const [oneVisit, setOneVisit] = useState(false);

  function edit(funnel: FunnelDef | null) {
    setEditing(funnel);
    setSteps(funnel ? funnel.steps.map((s) => s.id) : ["", ""]);
    setOneVisit(funnel !== null && funnel.windowMinutes === null);
    setError(null);
  }

  function submit(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const body = {
      name: String(data.get("name")).trim(),
      steps,
      windowMinutes: oneVisit ? null : Number(data.get("windowMinutes")),
    };
    void save(form, body, () => edit(null));
  }

  const question = (funnel: FunnelDef) => `Delete the funnel "${funnel.name}"? Its goals stay.`;
  const setStep = (index: number, value: string) => setSteps(steps.map((s, i) => (i === index ? value : s)));
  return (
    <section class="card" aria-labelledby="funnel-list-title" data-section="funnels">
      <h2 id="funnel-list-title">Funnels</h2>
      <p class="muted">
        2 to 8 goals in order, reached within one visit or within a time window from the first.
      </p>
      {funnels?.length === 0 && <p class="muted">No funnels yet.</p>}
      {funnels && funnels.length > 0 && (
        <div class="table-scroll">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Funnel</th>
                <th scope="col">Steps</th>
                <th scope="col">Within</th>
                {canWrite && (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {funnels.map((funnel) => (
                <tr data-funnel={funnel.name}>
                  <td>
                    <a
                      href={`/sites/${siteId}/funnels/${funnel.id}`}
                      onClick={(e) => onLinkClick(e, `/sites/${siteId}/funnels/${funnel.id}`)}
                    >
                      {funnel.name}
                    </a>
                  </td>
                  <td>{funnel.steps.map((s) => s.name).join(" → ")}</td>
                  <td>{funnel.windowMinutes === null ? "one visit" : `${funnel.windowMinutes} min`}</td>
                  {canWrite && (
                    <RowActions
                      name={funnel.name}
                      onEdit={() => edit(funnel)}
                      onDelete={() => remove(funnel, question(funnel), () => editing?.id === funnel.id && edit(null))}
                    />
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && goals.length < 2 && <p class="muted">Add at least two goals to build a funnel.</p>}
      {canWrite && goals.length >= 2 && (
        <form class="stack" onSubmit={submit} key={editing?.id ?? "new"} aria-labelledby="funnel-form-title">
          <h3 id="funnel-form-title">{editing ? `Edit ${editing.name}` : "Add a funnel"}</h3>
          <label>
            Name <input name="name" required maxLength={100} defaultValue={editing?.name ?? ""} />
          </label>
          <ol class="funnel-steps">
            {steps.map((step, index) => (
              <li>
                <label>
                  Step {index + 1}
                  <select required aria-label={`Step ${index + 1}`} value={step} onChange={(e) => setStep(index, (e.target as HTMLSelectElement).value)}>
                    <option value="">Choose a goal</option>
                    {goals.map((goal) => (
                      <option value={goal.id}>{goal.name}</option>
                    ))}
                  </select>
                </label>
                {steps.length > 2 && (
                  <button
                    type="button"
                    class="link danger"
                    aria-label={`Remove step ${index + 1}`}
                    onClick={() => setSteps(steps.filter((_, i) => i !== index))}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ol>
          {steps.length < MAX_STEPS && (
            <button type="button" class="link" onClick={() => setSteps([...steps, ""])}>
              Add a step
            </button>
          )}
          <label class="toggle">
            <input type="checkbox" checked={oneVisit} onChange={(e) => setOneVisit((e.target as HTMLInputElement).checked)} />{" "}
            All steps within one visit
          </label>
          {!oneVisit && (
            <label>
              Window (minutes from the first step, 1 to 1440){" "}
              <input name="windowMinutes" type="number" required defaultValue={editing?.windowMinutes ?? 30} />
            </label>
          )}
          <FormActions noun="funnel" editing={editing !== null} onCancel={() => edit(null)} />
        </form>
      )}
      <Feedback status={status} error={error} />
    </section>
  );
}
