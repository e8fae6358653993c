/**
 * A runtime check of a body against the wire types in `src/types.ts`, with the gateway's limits
 * (`traytic.core.events`). Returns the msgspec-style path of the first fault, or null. Unknown
 * fields are allowed, as msgspec ignores them.
 */
import { type Beacon, VITAL_NAMES } from "../src/types";

type Fault = string | null;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): boolean => typeof v === "string" && v.length > 0;

const AMOUNT = /^[0-9]{1,13}(\.[0-9]{1,20})?$/;

function revenueFault(revenue: unknown, at: string): Fault {
  if (revenue === undefined || revenue === null) return null;
  if (!isObject(revenue)) return `${at}.revenue`;
  const { amount, currency } = revenue;
  const amountOk =
    typeof amount === "number"
      ? Number.isFinite(amount) && amount >= 0 && amount <= 1e12
      : typeof amount === "string" && AMOUNT.test(amount);
  if (!amountOk) return `${at}.revenue.amount`;
  if (typeof currency !== "string" || !/^[A-Za-z]{3}$/.test(currency)) return `${at}.revenue.currency`;
  return null;
}

function eventFault(event: unknown, at: string): Fault {
  if (!isObject(event)) return at;
  const required = (field: string, ok: (v: unknown) => boolean): Fault =>
    ok(event[field]) ? null : `${at}.${field}`;
  switch (event.type) {
    case "pageview":
      return (
        required("url", nonEmpty) ??
        required("referrer", (v) => v === undefined || v === null || typeof v === "string")
      );
    case "event": {
      const fault =
        required("name", nonEmpty) ?? required("url", nonEmpty) ?? revenueFault(event.revenue, at);
      if (fault || event.props === undefined) return fault;
      if (!isObject(event.props)) return `${at}.props`;
      for (const value of Object.values(event.props)) {
        const kind = typeof value;
        if (!(value === null || kind === "string" || kind === "number" || kind === "boolean")) {
          return `${at}.props[...]`;
        }
      }
      return null;
    }
    case "vital":
      return (
        required("name", (v) => (VITAL_NAMES as readonly unknown[]).includes(v)) ??
        required("value", (v) => typeof v === "number" && Number.isFinite(v) && v >= 0) ??
        required("url", nonEmpty)
      );
    case "error":
      return (
        required("message", nonEmpty) ??
        required("url", nonEmpty) ??
        required("source", (v) => v === undefined || v === null || typeof v === "string")
      );
    case "engagement": {
      const int = (max: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;
      return (
        required("url", nonEmpty) ?? required("engagedMs", int(86_400_000)) ?? required("scrollDepth", int(100))
      );
    }
    default:
      return `${at}.type`;
  }
}

export function beaconFault(body: unknown): Fault {
  if (!isObject(body)) return "$";
  const { siteId, events, screen } = body;
  if (typeof siteId !== "string" || siteId.length < 1 || siteId.length > 64) return "$.siteId";
  if (!Array.isArray(events) || events.length < 1) return "$.events";
  for (const [i, event] of events.entries()) {
    const fault = eventFault(event, `$.events[${i}]`);
    if (fault) return fault;
  }
  if (
    screen !== undefined &&
    screen !== null &&
    !(Number.isInteger(screen) && (screen as number) >= 0 && (screen as number) <= 100_000)
  ) {
    return "$.screen";
  }
  return null;
}

export function isBeacon(body: unknown): body is Beacon {
  return beaconFault(body) === null;
}
