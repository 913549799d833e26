/**
 * Client → server requests on `/v1/feed` (JSON text), parsed and validated in one place. Errors carry a
 * stable code and name the offending field; see docs/protocol.md.
 */
import type { SlowConsumerPolicy } from "../config/options.js";
import { TickringError } from "../errors.js";

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
}

export type FeedRequest = SubscribeRequest | { op: "unsubscribe"; id: number } | { op: "ping" };

const MAX_SYMBOLS = 10_000;

/** Parses one text message; throws TickringError (BAD_JSON, UNKNOWN_OP, BAD_REQUEST). */
export function parseFeedRequest(text: string): FeedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TickringError("BAD_JSON", `request is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TickringError("BAD_REQUEST", "request must be a JSON object with an op");
  }
  const o = raw as Record<string, unknown>;
  switch (o.op) {
    case "ping":
      return { op: "ping" };
    case "unsubscribe":
      return { op: "unsubscribe", id: subId(o.id) };
    case "subscribe":
      return parseSubscribe(o);
    default:
      throw new TickringError(
        "UNKNOWN_OP",
        `unknown op ${JSON.stringify(o.op)}: expected subscribe, unsubscribe or ping`,
      );
  }
}

function parseSubscribe(o: Record<string, unknown>): SubscribeRequest {
  const id = subId(o.id);
  const feed = o.feed ?? "realtime";
  if (feed !== "realtime" && feed !== "delayed" && feed !== "historical") {
    throw badField("feed", "realtime, delayed or historical", feed);
  }
  const format = o.format ?? "flatbuffers";
  if (format !== "flatbuffers" && format !== "json") throw badField("format", "flatbuffers or json", format);
  const symbols = parseSymbols(o.symbols);
  const speed = o.speed ?? "max";
  if (
    speed !== "max" &&
    !(typeof speed === "number" && Number.isFinite(speed) && speed > 0 && speed <= 1e6)
  ) {
    throw badField("speed", '"max" or a positive factor', speed);
  }
  const policy = o.policy;
  if (policy !== undefined && policy !== "drop" && policy !== "conflate" && policy !== "disconnect") {
    throw badField("policy", "drop, conflate or disconnect", policy);
  }
  if (o.live !== undefined && typeof o.live !== "boolean") throw badField("live", "true or false", o.live);
  const from = o.from === undefined ? undefined : position(o.from, "from");
  if (feed === "historical" && from === undefined) {
    throw new TickringError("BAD_REQUEST", 'historical subscriptions need "from": {"seq":N} or {"time":"…"}');
  }
  return {
    op: "subscribe",
    id,
    symbols,
    feed,
    format,
    from,
    to: o.to === undefined ? undefined : position(o.to, "to"),
    speed,
    live: o.live === true,
    policy,
  };
}

function subId(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw badField("id", "a non-negative integer", v);
  return v;
}

function parseSymbols(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_SYMBOLS) {
    throw badField("symbols", `an array of 1–${MAX_SYMBOLS} symbols, or ["*"]`, v);
  }
  if (v.length === 1 && v[0] === "*") return null;
  for (const s of v) {
    if (typeof s !== "string" || s.length === 0 || s.length > 64 || s === "*") {
      throw badField("symbols", 'symbol strings of 1–64 characters (or ["*"] alone)', s);
    }
  }
  return v as string[];
}

function position(v: unknown, field: string): Position {
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
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

function badField(field: string, expected: string, got: unknown): TickringError {
  return new TickringError(
    "BAD_REQUEST",
    `${field}: expected ${expected}, got ${JSON.stringify(got) ?? String(got)}`,
  );
}
