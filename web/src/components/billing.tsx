/** The organisation's plan, usage against its quota, upgrade (the billing service's hosted
 * checkout) and the provider's manage link. Shows nothing when billing is not configured: the
 * billing API answers 404 `billing_not_configured` and every plan is free. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Billing as BillingView, type Organisation } from "../api";
import { formatInteger, formatPercent } from "../format";

const PLANS: { plan: string; label: string; pitch: string }[] = [
  { plan: "pro", label: "Pro", pitch: "unlimited events, 2 years of history" },
  { plan: "team", label: "Team", pitch: "Pro, with unlimited members" },
];
const RANK: Record<string, number> = { free: 0, pro: 1, team: 2 };

const title = (plan: string) => plan.charAt(0).toUpperCase() + plan.slice(1);
const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" });

function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

export function Billing({ org, canWrite }: { org: Organisation; canWrite: boolean }) {
  const [billing, setBilling] = useState<BillingView | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    setBilling(undefined);
    api<BillingView>("GET", `/api/billing?organisationId=${encodeURIComponent(org.id)}`)
      .then((b) => current && setBilling(b))
      .catch((e) => {
        if (!current) return;
        if (e instanceof ApiError && e.status === 404) setBilling(null); // billing is off
        else setError(e instanceof ApiError ? e.message : String(e));
      });
    return () => {
      current = false;
    };
  }, [org.id]);

  async function upgrade(plan: string) {
    setError(null);
    setBusy(plan);
    try {
      const started = await api<{ url: string }>("POST", "/api/billing/checkout", {
        plan,
        organisationId: org.id,
      });
      location.assign(started.url);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(null);
    }
  }

  if (billing === null || (billing === undefined && !error)) return null;
  return (
    <section class="card billing" id="billing" aria-labelledby="billing-title">
      <h2 id="billing-title">Billing</h2>
      {billing && <Plan billing={billing} />}
      {billing && canWrite && RANK[billing.plan] < RANK.team && (
        <div class="upgrades">
          {PLANS.filter((p) => RANK[p.plan] > RANK[billing.plan]).map((p) => (
            <button type="button" class="primary" disabled={busy !== null} onClick={() => upgrade(p.plan)}>
              {busy === p.plan ? "Opening the checkout…" : `Upgrade to ${p.label}`}
              <span class="small"> · {p.pitch}</span>
            </button>
          ))}
        </div>
      )}
      {billing && !canWrite && <p class="muted">Only admins and owners can change the plan.</p>}
      {billing?.manageUrl && canWrite && (
        <p>
          <a href={billing.manageUrl} rel="noopener">
            Manage the subscription
          </a>{" "}
          <span class="muted">(payment method, invoices, cancel)</span>
        </p>
      )}
      {billing && billing.invoices.length > 0 && <Invoices invoices={billing.invoices} />}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function Plan({ billing }: { billing: BillingView }) {
  const { eventsThisMonth: used, eventsLimit: limit, overQuota } = billing.usage;
  const sub = billing.subscription;
  return (
    <>
      <p data-plan={billing.plan}>
        <b>{title(billing.plan)}</b> plan
        {sub && billing.plan !== "free" && (
          <span class="muted">
            {" "}
            · {money(sub.amount, sub.currency)} a month · {sub.status}
            {sub.currentPeriodEnd &&
              ` · ${sub.cancelAtPeriodEnd ? "ends" : "renews"} ${day(sub.currentPeriodEnd)}`}
          </span>
        )}
      </p>
      <div class="usage" data-used={used} data-limit={limit ?? ""}>
        <div class="usage-text">
          {limit === null
            ? `${formatInteger(used)} events this month (no quota)`
            : `${formatInteger(used)} of ${formatInteger(limit)} events this month (${formatPercent(used / limit)})`}
        </div>
        {limit !== null && (
          <div
            class={`usage-bar ${overQuota ? "over" : used / limit >= 0.8 ? "near" : ""}`}
            role="progressbar"
            aria-label="Events this month"
            aria-valuemin={0}
            aria-valuemax={limit}
            aria-valuenow={used}
          >
            <span style={{ width: `${Math.min(100, (used / limit) * 100)}%` }} />
          </div>
        )}
      </div>
      {overQuota && (
        <p class="error" role="alert">
          Over this month's quota: new beacons are dropped until the month ends or the plan is upgraded.
        </p>
      )}
    </>
  );
}

function Invoices({ invoices }: { invoices: BillingView["invoices"] }) {
  return (
    <div class="table-scroll">
      <table class="table">
        <caption class="sr-only">Invoices</caption>
        <thead>
          <tr>
            <th scope="col">Paid</th>
            <th scope="col">Amount</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="sr-only">Link</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {invoices.map((i) => (
            <tr>
              <td>{i.paidAt ? day(i.paidAt) : "–"}</td>
              <td>{money(i.amount, i.currency)}</td>
              <td>{i.status}</td>
              <td>{i.hostedUrl && <a href={i.hostedUrl} rel="noopener">Invoice</a>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
