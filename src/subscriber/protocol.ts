/**
 * Client → server requests on `/v1/feed` (JSON text), parsed and validated in one place. Errors carry a
 * stable code and name the offending field; see docs/protocol.md.
 */
import { BAR_INTERVAL_RULE, parseBarInterval } from "../config/bar-interval.js";
import type { SlowConsumerPolicy } from "../config/options.js";
import { RequestError, TickringError } from "../errors.js";
import { parseClientJson } from "../frame/client-json.js";
import { preview } from "../frame/preview.js";
import { SYMBOL_RULE, symbolProblem } from "../frame/symbol-rules.js";
import { FRAME_TYPES, type FrameType } from "./frame-filter.js";

export type FeedKind = "realtime" | "delayed" | "historical";
export type Position = { seq: number } | { timeNs: bigint };

export interface SubscribeRequest {
  op: "subscribe";
  id: number;
  /** Symbols, or null for all (`["*"]`). */
  symbols: string[] | null;
  feed: FeedKind;
  format: "flatbuffers" | "json";
  from: Position | undefined;
  to: Position | undefined;
  speed: "max" | number;
  live: boolean;
  policy: SlowConsumerPolicy | undefined;
  /** Frame types, or null for all. */
  types: FrameType[] | null;
  /** Bar intervals (ns) of the bar frames wanted, or null for all. */
  bars: number[] | null;
}

export type FeedRequest = SubscribeRequest | { op: "unsubscribe"; id: number } | { op: "ping" };

const MAX_SYMBOLS = 10_000;

/** Parses one text message; throws TickringError (BAD_JSON, UNKNOWN_OP, BAD_REQUEST). */
export function parseFeedRequest(text: string): FeedRequest {
  const raw = parseClientJson(Buffer.from(text, "utf8"), "request");
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TickringError("BAD_REQUEST", "request must be a JSON object with an op");
  }
  const o = raw as Record<string, unknown>;
  switch (o.op) {
    case "ping":
      return { op: "ping" };
    case "unsubscribe":
      return { op: "unsubscribe", id: subId(o.id) };
    case "subscribe": {
      const id = subId(o.id);
      try {
        return parseSubscribe(o, id);
      } catch (err) {
        // Past the id, every refusal names the subscription it refuses.
        throw err instanceof TickringError ? new RequestError(err, id) : err;
      }
    }
    default:
      throw new TickringError(
        "UNKNOWN_OP",
        `unknown op ${preview(o.op)}: expected subscribe, unsubscribe or ping`,
      );
  }
}

function parseSubscribe(o: Record<string, unknown>, id: number): SubscribeRequest {
  const feed = o.feed ?? "realtime";
  if (feed !== "realtime" && feed !== "delayed" && feed !== "historical") {
    throw badField("feed", "realtime, delayed or historical", feed);
  }
  if (feed !== "historical") {
    for (const field of HISTORICAL_ONLY) {
      if (o[field] !== undefined) {
        throw new TickringError(
          "BAD_REQUEST",
          `${field}: only historical subscriptions take "${field}", not ${feed} ones`,
        );
      }
    }
  }
  const format = o.format ?? "flatbuffers";
  if (format !== "flatbuffers" && format !== "json") throw badField("format", "flatbuffers or json", format);
  const symbols = parseSymbols(o.symbols);
  const speed = o.speed ?? "max";
  if (
    speed !== "max" &&
    !(typeof speed === "number" && Number.isFinite(speed) && speed >= MIN_SPEED && speed <= MAX_SPEED)
  ) {
    throw badField("speed", `"max" or a factor from ${MIN_SPEED} to ${MAX_SPEED}`, speed);
  }
  const policy = o.policy;
  if (policy !== undefined && policy !== "drop" && policy !== "conflate" && policy !== "disconnect") {
    throw badField("policy", "drop, conflate or disconnect", policy);
  }
  if (o.live !== undefined && typeof o.live !== "boolean") throw badField("live", "true or false", o.live);
  const types = o.types === undefined ? null : frameTypes(o.types, "types");
  const bars = o.bars === undefined ? null : barIntervals(o.bars, "bars");
  if (bars !== null && types !== null && !types.includes("bar")) {
    throw new TickringError("BAD_REQUEST", 'bars: picks bar intervals, but "types" leaves bars out');
  }
  const from = o.from === undefined ? undefined : position(o.from, "from");
  const to = o.to === undefined ? undefined : position(o.to, "to");
  if (feed === "historical") {
    if (from === undefined) {
      throw new TickringError(
        "BAD_REQUEST",
        'from: historical subscriptions need "from": {"seq":N} or {"time":"…"}',
      );
    }
    checkOrder(from, to);
    if (o.live === true && to !== undefined) {
      throw new TickringError(
        "BAD_REQUEST",
        'live: "live" continues past history; it cannot be combined with "to"',
      );
    }
  }
  return {
    op: "subscribe",
    id,
    symbols,
    feed,
    format,
    from,
    to,
    speed,
    live: o.live === true,
    policy,
    types,
    bars,
  };
}

/** Frame types (`["trade","quote"]`): 1–4 of trade, quote, book, bar. `field` names them in errors. */
export function frameTypes(v: unknown, field: string): FrameType[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > FRAME_TYPES.length) {
    throw badField(field, `an array of 1–${FRAME_TYPES.length} of ${FRAME_TYPES.join(", ")}`, v);
  }
  for (let i = 0; i < v.length; i++) {
    if (!FRAME_TYPES.includes(v[i] as FrameType)) {
      throw badField(`${field}[${i}]`, `one of ${FRAME_TYPES.join(", ")}`, v[i]);
    }
  }
  return [...new Set(v as FrameType[])];
}

/** Most bar intervals one filter names. */
const MAX_BAR_INTERVALS = 64;

/** Bar intervals (`["1m","5m"]`) as ns, each {@link BAR_INTERVAL_RULE}. `field` names them in errors. */
export function barIntervals(v: unknown, field: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_BAR_INTERVALS) {
    throw badField(field, `an array of 1–${MAX_BAR_INTERVALS} bar intervals like "1m"`, v);
  }
  return [
    ...new Set(
      v.map((item: unknown, i) => {
        const ms = typeof item === "string" ? parseBarInterval(item) : undefined;
        if (ms === undefined) throw badField(`${field}[${i}]`, BAR_INTERVAL_RULE, item);
        return ms * 1e6;
      }),
    ),
  ];
}

/**
 * Pacing factors: a thousand times slower than the original timing at most (a slower one would hold its
 * replay slot, a read buffer and a file for days per minute of history), a million times faster.
 */
const MIN_SPEED = 0.001;
const MAX_SPEED = 1e6;

/** Fields of a historical subscription that a realtime or delayed one would silently ignore. */
const HISTORICAL_ONLY = ["from", "to", "speed", "live"] as const;

/** `to` before `from`, when both are seqs or both times, is a careless request: refuse it. */
export function checkOrder(from: Position, to: Position | undefined): void {
  if (to === undefined) return;
  if ("seq" in from && "seq" in to && to.seq < from.seq) {
    throw new TickringError("BAD_REQUEST", `to: seq ${to.seq} is before from's seq ${from.seq}`);
  }
  if ("timeNs" in from && "timeNs" in to && to.timeNs < from.timeNs) {
    const iso = (p: { timeNs: bigint }): string => new Date(Number(p.timeNs / 1_000_000n)).toISOString();
    throw new TickringError("BAD_REQUEST", `to: time ${iso(to)} is before from's time ${iso(from)}`);
  }
}

function subId(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw badField("id", "a non-negative integer", v);
  return v;
}

/** Symbols (1–10,000 by the symbol rules), or null for `["*"]`. */
export function parseSymbols(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_SYMBOLS) {
    throw badField("symbols", `an array of 1–${MAX_SYMBOLS} symbols, or ["*"]`, v);
  }
  if (v.length === 1 && v[0] === "*") return null;
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    const problem =
      typeof s !== "string" ? "is not a string" : s === "*" ? 'is "*", which goes alone' : symbolProblem(s);
    if (problem !== undefined) {
      throw badField(`symbols[${i}]`, `a symbol of ${SYMBOL_RULE} (or ["*"] alone); this one ${problem}`, s);
    }
  }
  return v as string[];
}

function position(v: unknown, field: string): Position {
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    let keys = 0;
    for (const k in o) {
      if (k !== "seq" && k !== "time") throw badField(field, '{"seq":N} or {"time":"…"}', v);
      keys++;
    }
    if (keys === 2) throw badField(field, '{"seq":N} or {"time":"…"}, not both', v);
    if (o.seq !== undefined) {
      if (typeof o.seq !== "number" || !Number.isSafeInteger(o.seq) || o.seq < 1) {
        throw badField(`${field}.seq`, "an integer ≥ 1", o.seq);
      }
      return { seq: o.seq };
    }
    if (o.time !== undefined) {
      const ms = typeof o.time === "string" ? Date.parse(o.time) : Number.NaN;
      if (Number.isNaN(ms))
        throw badField(`${field}.time`, "an ISO-8601 time like 2026-11-23T09:30:00Z", o.time);
      return { timeNs: BigInt(ms) * 1_000_000n };
    }
  }
  throw badField(field, '{"seq":N} or {"time":"…"}', v);
}

/** The error for a bad field: names it and quotes at most a short prefix of what was sent. */
function badField(field: string, expected: string, got: unknown): TickringError {
  return new TickringError("BAD_REQUEST", `${field}: expected ${expected}, got ${preview(got)}`);
}
