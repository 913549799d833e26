/**
 * What a token says it grants, read from its claims without checking its signature — only to leave out what
 * the daemon would refuse (a `/v1/stats` the token may not read is an HTTP 403, an error in the browser's
 * console). The daemon checks every token itself; a page that reads a claim wrong is only refused. No DOM.
 */

/** The grants the page cares about; `undefined` fields: the token does not say (or is not a JWT). */
export interface PageGrants {
  /** May read `/v1/stats` (`metrics` or `admin`). */
  stats: boolean | undefined;
  /** Symbol patterns of historical data (`history`): `AAPL`, `FX:*`, `*`. */
  history: readonly string[] | undefined;
}

const UNKNOWN: PageGrants = { stats: undefined, history: undefined };

/** The grants of `token`'s `tickring` claim; all unknown when it is no readable JWT. */
export function grantsOf(token: string): PageGrants {
  const payload = token.split(".")[1];
  if (payload === undefined) return UNKNOWN;
  let claims: unknown;
  try {
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return UNKNOWN;
  }
  const t = (claims as { tickring?: unknown } | null)?.tickring;
  if (typeof t !== "object" || t === null) return UNKNOWN;
  const c = t as { metrics?: unknown; admin?: unknown; history?: unknown };
  return {
    stats: c.metrics === true || c.admin === true,
    history: Array.isArray(c.history) ? c.history.filter((p): p is string => typeof p === "string") : [],
  };
}

/** Whether `patterns` (exact symbols, `*`, or prefixes ending in `*`) take in `symbol`. */
export function allows(patterns: readonly string[], symbol: string): boolean {
  return patterns.some(
    (p) => p === "*" || p === symbol || (p.endsWith("*") && symbol.startsWith(p.slice(0, -1))),
  );
}
