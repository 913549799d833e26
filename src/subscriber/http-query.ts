/**
 * The query strings of the HTTP data endpoints (`/v1/history`, `/v1/bars`, `/v1/last`, `/v1/symbols`),
 * parsed and validated in one place with the WebSocket's rules and messages: the same symbol rules, the
 * same `from`/`to` (a seq, or an ISO time compared with ts_recv), the same type and bar-interval lists.
 * A parameter that is unknown, repeated or malformed is refused with `BAD_REQUEST` naming it; an error
 * quotes at most a short prefix of what was sent.
 */
import { parseBarInterval, BAR_INTERVAL_RULE } from "../config/bar-interval.js";
import { TickringError } from "../errors.js";
import { preview } from "../frame/preview.js";
import type { FrameType } from "./frame-filter.js";
import { barIntervals, checkOrder, frameTypes, parseSymbols, type Position } from "./protocol.js";
import type { TextFormat } from "./frame-text.js";

/** What every data endpoint's query may carry, parsed. */
export interface DataQuery {
  /** Symbols, or null for all (`*`). */
  symbols: string[] | null;
  from: Position | undefined;
  to: Position | undefined;
  types: FrameType[] | null;
  /** Bar intervals (ns) of the bar frames wanted, or null for all. */
  bars: number[] | null;
  format: TextFormat;
  /** Most records in the answer. */
  limit: number;
  /** `/v1/bars`: the interval of the bars to compute, ns. */
  intervalNs: number;
}

/** Which parameters an endpoint takes, which it requires, and its default format. */
export interface QueryRules {
  takes: readonly (keyof typeof READERS)[];
  requires: readonly (keyof typeof READERS)[];
  format: TextFormat;
}

const FORMATS: readonly TextFormat[] = ["ndjson", "csv", "json"];

const READERS = {
  symbols: (v: string, q: DataQuery) => {
    q.symbols = parseSymbols(v === "*" ? ["*"] : v.split(","));
  },
  from: (v: string, q: DataQuery) => {
    q.from = position(v, "from");
  },
  to: (v: string, q: DataQuery) => {
    q.to = position(v, "to");
  },
  types: (v: string, q: DataQuery) => {
    q.types = frameTypes(v.split(","), "types");
  },
  bars: (v: string, q: DataQuery) => {
    q.bars = barIntervals(v.split(","), "bars");
  },
  format: (v: string, q: DataQuery) => {
    if (!FORMATS.includes(v as TextFormat)) throw badParam("format", FORMATS.join(", "), v);
    q.format = v as TextFormat;
  },
  limit: (v: string, q: DataQuery) => {
    if (!/^\d{1,15}$/.test(v) || Number(v) < 1) throw badParam("limit", "a whole number ≥ 1", v);
    q.limit = Number(v);
  },
  interval: (v: string, q: DataQuery) => {
    const ms = parseBarInterval(v);
    if (ms === undefined) throw badParam("interval", BAR_INTERVAL_RULE, v);
    q.intervalNs = ms * 1e6;
  },
};

/** Parses `query` (the part after `?`) for an endpoint taking `rules`; throws BAD_REQUEST. */
export function parseDataQuery(query: string, rules: QueryRules): DataQuery {
  const q: DataQuery = {
    symbols: null,
    from: undefined,
    to: undefined,
    types: null,
    bars: null,
    format: rules.format,
    limit: Number.MAX_SAFE_INTEGER,
    intervalNs: 0,
  };
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (name === "token") continue; // the socket edge's: it authenticated the request with it
    if (!(rules.takes as readonly string[]).includes(name)) {
      throw new TickringError(
        "BAD_REQUEST",
        `unknown parameter ${preview(name)}: this endpoint takes ${rules.takes.join(", ")}`,
      );
    }
    if (seen.has(name)) throw new TickringError("BAD_REQUEST", `${name}: given more than once`);
    seen.add(name);
    READERS[name as keyof typeof READERS](value, q);
  }
  for (const name of rules.requires) {
    if (!seen.has(name)) throw new TickringError("BAD_REQUEST", `${name}: required`);
  }
  if (q.bars !== null && q.types !== null && !q.types.includes("bar")) {
    throw new TickringError("BAD_REQUEST", "bars: picks bar intervals, but types leaves bars out");
  }
  if (q.from !== undefined) checkOrder(q.from, q.to);
  return q;
}

/** A seq (digits) or an ISO-8601 time. */
function position(v: string, name: string): Position {
  if (/^\d{1,15}$/.test(v)) {
    if (Number(v) < 1) throw badParam(name, "a seq ≥ 1 or an ISO-8601 time", v);
    return { seq: Number(v) };
  }
  const ms = Date.parse(v);
  if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\d/.test(v)) {
    throw badParam(name, "a seq (e.g. 42) or an ISO-8601 time like 2026-11-23T09:30:00Z", v);
  }
  return { timeNs: BigInt(ms) * 1_000_000n };
}

function badParam(name: string, expected: string, got: string): TickringError {
  return new TickringError("BAD_REQUEST", `${name}: expected ${expected}, got ${preview(got)}`);
}
