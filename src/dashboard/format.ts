/** How the dashboard writes numbers: counts, rates, bytes, durations, prices. No DOM. */

const INT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const ONE = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const TWO = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** The placeholder for a figure that is not known (yet). */
export const NONE = "–";

/** `12,345`. */
export function count(n: number | null): string {
  return n === null ? NONE : INT.format(n);
}

/** `950`, `9.8K`, `1.2M`: a rate or a count where three digits say enough. */
export function compact(n: number | null): string {
  if (n === null) return NONE;
  const a = Math.abs(n);
  if (a >= 1e9) return `${ONE.format(n / 1e9)}G`;
  if (a >= 1e6) return `${ONE.format(n / 1e6)}M`;
  if (a >= 1e3) return `${ONE.format(n / 1e3)}K`;
  return INT.format(n);
}

/** `512 B`, `1.5 MiB`, `20.3 GiB`. */
export function bytes(n: number | null): string {
  if (n === null) return NONE;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${INT.format(v)} B` : `${ONE.format(v)} ${units[u]}`;
}

/** `0.42 ms`, `12.0 ms`. */
export function millis(ms: number | null): string {
  if (ms === null) return NONE;
  return ms < 10 ? `${TWO.format(ms)} ms` : `${ONE.format(ms)} ms`;
}

/** `45s`, `12m 5s`, `3h 20m`, `2d 4h`: an age or a window. */
export function duration(ms: number | null): string {
  if (ms === null) return NONE;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A price with the decimals it needs (at least 2, at most 6). */
export function price(p: number | null): string {
  if (p === null) return NONE;
  const digits = Math.min(6, Math.max(2, decimals(p)));
  return p.toFixed(digits);
}

/** `+1.25`, `-0.40`: a signed price change. */
export function signed(n: number | null, digits = 2): string {
  if (n === null) return NONE;
  return `${n > 0 ? "+" : n < 0 ? "−" : ""}${Math.abs(n).toFixed(digits)}`;
}

/** `09:31:05` in the browser's time zone. */
export function hhmmss(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `09:31:05.123` in the browser's time zone. */
export function clock(ms: number): string {
  return `${hhmmss(ms)}.${String(new Date(ms).getMilliseconds()).padStart(3, "0")}`;
}

function decimals(p: number): number {
  const s = String(p);
  const dot = s.indexOf(".");
  return dot < 0 || s.includes("e") ? 0 : s.length - dot - 1;
}
