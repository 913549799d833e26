/**
 * What a token grants: its standard claims (`sub`, `exp`) and tickring's own, namespaced under `"tickring"`:
 *
 * ```json
 * {"sub":"alice","exp":1790000000,"tickring":{"ingest":false,"admin":false,"metrics":false,
 *  "realtime":["AAPL","MSFT","FX:*"],"delayed":["*"],"history":["*"],"history_lookback":"30d",
 *  "max_connections":5,"max_subscriptions":50}}
 * ```
 *
 * Everything left out grants nothing: no flag is true, no feed has a symbol. A limit left out is the
 * server's own (`--max-subscriptions`), or none (`max_connections`); a `history` without
 * `history_lookback` reaches back as far as the server keeps data. An unknown key inside `"tickring"` is
 * refused rather than ignored: a misspelt `max_conections` would otherwise lift a limit silently.
 */
import { parseDuration } from "../config/duration.js";
import { TickringError } from "../errors.js";
import { preview } from "../frame/preview.js";
import { patternProblem, SymbolPatterns } from "./patterns.js";

/** The `tickring` claim as an issuer writes it. */
export interface TickringClaim {
  ingest?: boolean;
  admin?: boolean;
  metrics?: boolean;
  realtime?: string[];
  delayed?: string[];
  history?: string[];
  /** How far back historical replays may start, a duration with its unit (`30d`, `12h`). */
  history_lookback?: string;
  max_connections?: number;
  max_subscriptions?: number;
}

/** The name of tickring's claim in a token. */
export const CLAIM = "tickring";

/** What a verified token grants. */
export interface Grants {
  sub: string;
  /** When the token expires, ms since the epoch; undefined when it has no `exp`. */
  expMs: number | undefined;
  ingest: boolean;
  admin: boolean;
  metrics: boolean;
  realtime: SymbolPatterns;
  delayed: SymbolPatterns;
  history: SymbolPatterns;
  /** How far back a replay may start, ms; undefined = as far as the server keeps data. */
  historyLookbackMs: number | undefined;
  /** Open connections of this `sub` over all workers; undefined = no limit of the token's own. */
  maxConnections: number | undefined;
  /** Subscriptions per connection; undefined = the server's `--max-subscriptions`. */
  maxSubscriptions: number | undefined;
  /** The `tickring` claim in a canonical form: a refresh must grant exactly the same. */
  fingerprint: string;
}

const FLAGS = ["ingest", "admin", "metrics"] as const;
const FEEDS = ["realtime", "delayed", "history"] as const;
const LIMITS = ["max_connections", "max_subscriptions"] as const;
const KEYS: readonly string[] = [...FLAGS, ...FEEDS, ...LIMITS, "history_lookback"];
const MAX_LIMIT = 1_000_000;
/** Patterns per feed: a token is presented on every connection, so its size is bounded. */
const MAX_PATTERNS = 10_000;

/** Why `raw` is not a valid `tickring` claim (naming the field), or undefined when it is one. */
export function claimProblem(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return `${CLAIM}: not an object`;
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KEYS.includes(key)) return `${CLAIM}.${key.slice(0, 40)}: unknown (known: ${KEYS.join(", ")})`;
  }
  for (const f of FLAGS) {
    if (o[f] !== undefined && typeof o[f] !== "boolean") return `${CLAIM}.${f}: expected true or false`;
  }
  for (const f of FEEDS) {
    const list = o[f];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > MAX_PATTERNS) {
      return `${CLAIM}.${f}: expected an array of at most ${MAX_PATTERNS} symbol patterns, got ${preview(list)}`;
    }
    for (let i = 0; i < list.length; i++) {
      const problem = patternProblem(list[i]);
      if (problem !== undefined) return `${CLAIM}.${f}[${i}]: ${preview(list[i])} ${problem}`;
    }
  }
  for (const f of LIMITS) {
    const n = o[f];
    if (n !== undefined && !(Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_LIMIT)) {
      return `${CLAIM}.${f}: expected an integer from 1 to ${MAX_LIMIT}, got ${preview(n)}`;
    }
  }
  const lookback = o.history_lookback;
  if (lookback !== undefined) {
    const ms = typeof lookback === "string" ? parseDuration(lookback) : undefined;
    if (ms === undefined || ms <= 0) {
      return `${CLAIM}.history_lookback: expected a duration with its unit like 30d or 12h, got ${preview(lookback)}`;
    }
  }
  return undefined;
}

/**
 * The grants of a verified token's payload. Throws an `UNAUTHORIZED` TickringError naming the claim when
 * `sub` is missing or the `tickring` claim is malformed: such a token is refused whole.
 */
export function grantsOf(payload: Record<string, unknown>): Grants {
  const { sub, exp } = payload;
  if (typeof sub !== "string" || sub === "") {
    throw new TickringError("UNAUTHORIZED", "the token has no sub (subject) claim");
  }
  const raw = payload[CLAIM] ?? {};
  const problem = claimProblem(raw);
  if (problem !== undefined) throw new TickringError("UNAUTHORIZED", `token claim ${problem}`);
  const c = raw as TickringClaim;
  const patterns = (list: string[] | undefined) => new SymbolPatterns(list ?? []);
  return {
    sub,
    expMs: typeof exp === "number" ? exp * 1000 : undefined,
    ingest: c.ingest === true,
    admin: c.admin === true,
    metrics: c.metrics === true,
    realtime: patterns(c.realtime),
    delayed: patterns(c.delayed),
    history: patterns(c.history),
    historyLookbackMs: c.history_lookback === undefined ? undefined : parseDuration(c.history_lookback),
    maxConnections: c.max_connections,
    maxSubscriptions: c.max_subscriptions,
    fingerprint: JSON.stringify(c, Object.keys(c).sort()),
  };
}
