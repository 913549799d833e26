/**
 * Entitlements: what a token's grants allow a connection to do, decided once per subscription or request,
 * never per frame.
 *
 * - `realtime` symbols: the `realtime` patterns.
 * - `delayed` symbols: the `delayed` patterns, and the `realtime` ones (a user who may see a symbol now may
 *   see it 15 minutes late).
 * - `historical` symbols: the `history` patterns, from no earlier than `history_lookback` ago. A `live:true`
 *   replay turns real-time, so its symbols need `realtime` too; it may start up to {@link RESUME_WINDOW_MS}
 *   back without `history` — that is how the client library resumes a real-time subscription after a lost
 *   connection, and it replays nothing the user could not have seen live.
 *
 * A subscription naming symbols outside its feed's patterns is refused (`FORBIDDEN`, naming them and the
 * feeds they are entitled to); a `*` subscription gets the symbols the patterns allow (a filter, not an
 * error), and is refused only when they allow none.
 */
import { formatDuration } from "../config/duration.js";
import { TickringError } from "../errors.js";
import { preview } from "../frame/preview.js";
import type { Grants } from "./claims.js";
import type { SymbolPatterns } from "./patterns.js";

export type FeedKind = "realtime" | "delayed" | "historical";

/** What an admitted subscription may see, beyond the symbols it named. */
export interface FeedGrant {
  /** For `*`: the symbols the token allows; undefined when it allows every symbol. */
  allow: ((symbol: string) => boolean) | undefined;
  /** The earliest ts_recv (ns since the epoch) a historical replay may start at; −Infinity when any. */
  earliestNs: number;
  /** The refusal of a replay that would start before {@link earliestNs}. */
  tooEarly(): TickringError;
}

/** How far back a live replay of real-time symbols may start without a `history` entitlement. */
export const RESUME_WINDOW_MS = 60_000;
/** Symbols a refusal names at most. */
const NAMED = 10;

/** Something that says which symbols it allows: one feed's patterns, or two feeds' together. */
interface Allows {
  allows(symbol: string): boolean;
  readonly all: boolean;
  readonly none: boolean;
}

const ANY: FeedGrant = {
  allow: undefined,
  earliestNs: Number.NEGATIVE_INFINITY,
  tooEarly: () => new TickringError("FORBIDDEN", "unreachable: any start is allowed"),
};

/**
 * Admits a subscription to `feed` for `symbols` (null for `*`), or throws `FORBIDDEN` naming the symbols
 * the token has no entitlement to on that feed and the feeds it has for them.
 */
export function admitFeed(
  g: Grants,
  feed: FeedKind,
  symbols: readonly string[] | null,
  live: boolean,
  nowMs: number,
): FeedGrant {
  const name = feed === "historical" && live ? "historical live" : feed;
  const allowed = allowedOn(g, feed, live);
  if (symbols === null) {
    if (allowed.none) {
      throw new TickringError(
        "FORBIDDEN",
        `${name}: this token is entitled to no symbol on this feed${elsewhere(g, feed, null)}`,
      );
    }
  } else {
    const refused = symbols.filter((s) => !allowed.allows(s));
    if (refused.length > 0) {
      const named = refused.slice(0, NAMED).map((s) => preview(s));
      const more = refused.length > NAMED ? ` and ${refused.length - NAMED} more` : "";
      throw new TickringError(
        "FORBIDDEN",
        `${name}: not entitled to ${named.join(", ")}${more}${elsewhere(g, feed, refused)}`,
      );
    }
  }
  const allow = symbols !== null || allowed.all ? undefined : (s: string) => allowed.allows(s);
  if (feed !== "historical") return { ...ANY, allow };
  return { allow, ...startBound(g, symbols, live, nowMs) };
}

/** The symbols `feed` allows. */
function allowedOn(g: Grants, feed: FeedKind, live: boolean): Allows {
  switch (feed) {
    case "realtime":
      return g.realtime;
    case "delayed":
      return union(g.delayed, g.realtime);
    case "historical":
      return live ? g.realtime : g.history;
  }
}

function union(a: SymbolPatterns, b: SymbolPatterns): Allows {
  return {
    allows: (s) => a.allows(s) || b.allows(s),
    all: a.all || b.all,
    none: a.none && b.none,
  };
}

/** Where a replay may start from: `history_lookback`, or the resume window of a live replay. */
function startBound(
  g: Grants,
  symbols: readonly string[] | null,
  live: boolean,
  nowMs: number,
): Pick<FeedGrant, "earliestNs" | "tooEarly"> {
  const inHistory =
    !live || (symbols === null ? g.history.covers(g.realtime) : symbols.every((s) => g.history.allows(s)));
  const lookback = g.historyLookbackMs;
  // +Infinity: that way gives nothing; the earlier of the two bounds wins.
  const byHistory = !inHistory
    ? Number.POSITIVE_INFINITY
    : lookback === undefined
      ? Number.NEGATIVE_INFINITY
      : nowMs - lookback;
  const byResume = live ? nowMs - RESUME_WINDOW_MS : Number.POSITIVE_INFINITY;
  const bound = Math.min(byHistory, byResume);
  if (bound === Number.NEGATIVE_INFINITY) return { earliestNs: bound, tooEarly: ANY.tooEarly };
  const at = new Date(bound).toISOString();
  const why =
    bound === byHistory
      ? `history_lookback ${formatDuration(lookback!)}`
      : `a live replay without a history entitlement for its symbols goes back at most ${formatDuration(RESUME_WINDOW_MS)}`;
  return {
    earliestNs: bound * 1e6,
    tooEarly: () => new TickringError("FORBIDDEN", `historical: ${why}: start at ${at} or later`),
  };
}

/** ` (entitled to delayed for "MSFT")`: the other feeds that allow the refused symbols (all for null). */
function elsewhere(g: Grants, feed: FeedKind, refused: readonly string[] | null): string {
  const parts: string[] = [];
  for (const other of ["realtime", "delayed", "historical"] as const) {
    if (other === feed) continue;
    const allowed = allowedOn(g, other, false);
    if (refused === null) {
      if (!allowed.none) parts.push(other);
      continue;
    }
    const some = refused.filter((s) => allowed.allows(s));
    if (some.length === refused.length) parts.push(other);
    else if (some.length > 0)
      parts.push(
        `${other} for ${some
          .slice(0, NAMED)
          .map((s) => preview(s))
          .join(", ")}`,
      );
  }
  return parts.length === 0 ? "; no feed of this token has them" : `; entitled to ${parts.join("; ")}`;
}

/** An action of the endpoints beside the feeds, and the claim it needs. */
export type Permission = "ingest" | "admin" | "metrics";

/** Why `g` may not do `need`, or undefined when it may (`metrics` also comes with `admin`). */
export function permissionRefusal(g: Grants, need: Permission): TickringError | undefined {
  const ok = need === "metrics" ? g.metrics || g.admin : g[need];
  if (ok) return undefined;
  const what = {
    ingest: "publish on /v1/ingest",
    admin: "use /v1/admin/*",
    metrics: "read /metrics and /v1/stats",
  };
  const claim = need === "metrics" ? `"metrics" or "admin"` : `"${need}"`;
  return new TickringError("FORBIDDEN", `this token may not ${what[need]}: it needs ${claim}: true`);
}
