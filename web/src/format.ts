/** Numbers, durations and changes formatted for the reader's locale. */

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });
const signedPercent = new Intl.NumberFormat(undefined, {
  style: "percent",
  maximumFractionDigits: 0,
  signDisplay: "exceptZero",
});

export const formatInteger = (n: number) => integer.format(n);
export const formatCompact = (n: number) => (n < 10000 ? integer.format(n) : compact.format(n));
export const formatDecimal = (n: number) => decimal.format(n);
export const formatPercent = (n: number) => percent.format(n);

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** The change against the previous period, or null when there was nothing to compare with. */
export function formatChange(value: number, previous: number): string | null {
  if (previous === 0) return value === 0 ? null : "new";
  return signedPercent.format((value - previous) / previous);
}

let regionNames: Intl.DisplayNames | null = null;
export function countryName(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(undefined, { type: "region" });
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}

export function eventTime(ts: string | number): Date {
  if (typeof ts === "number") return new Date(ts > 1e12 ? ts : ts * 1000);
  return new Date(ts);
}
