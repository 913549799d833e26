/**
 * The JSON tick parser: one tick object of the wire's JSON (snake_case fields, nanoseconds as decimal
 * strings) into a {@link Tick}, or a BAD_TICK error naming the field.
 */
import { TickringError } from "../../errors.js";
import type { BookLevel, Tick } from "../../frame/codec.js";

const MAX_I64 = (1n << 63n) - 1n;

/** Validates one JSON tick; errors name the field path and the bad value. */
export function parseTick(raw: unknown, where: string): Tick {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw bad(where, "expected a tick object", raw);
  }
  const o = raw as Record<string, unknown>;
  const symbol = o.symbol;
  if (typeof symbol !== "string" || symbol.length === 0 || symbol.length > 64) {
    throw bad(`${where}.symbol`, "expected a string of 1–64 characters", symbol);
  }
  const base = {
    symbol,
    instrumentId: o.instrument_id === undefined ? undefined : u32(o.instrument_id, `${where}.instrument_id`),
    tsEvent: o.ts_event === undefined ? undefined : nanos(o.ts_event, `${where}.ts_event`),
  };
  switch (o.type) {
    case "trade":
      return {
        ...base,
        type: "trade",
        price: num(o.price, `${where}.price`),
        size: num(o.size, `${where}.size`),
        aggressor:
          o.aggressor === undefined || o.aggressor === null
            ? undefined
            : side(o.aggressor, `${where}.aggressor`),
        tradeId: o.trade_id === undefined ? undefined : u64(o.trade_id, `${where}.trade_id`),
      };
    case "quote":
      return {
        ...base,
        type: "quote",
        bidPrice: num(o.bid_price, `${where}.bid_price`),
        bidSize: num(o.bid_size, `${where}.bid_size`),
        askPrice: num(o.ask_price, `${where}.ask_price`),
        askSize: num(o.ask_size, `${where}.ask_size`),
      };
    case "book":
      return {
        ...base,
        type: "book",
        snapshot: o.snapshot === undefined ? false : bool(o.snapshot, `${where}.snapshot`),
        bids: levels(o.bids, `${where}.bids`),
        asks: levels(o.asks, `${where}.asks`),
      };
    case "bar":
      return {
        ...base,
        type: "bar",
        intervalNs: nanos(o.interval_ns, `${where}.interval_ns`),
        open: num(o.open, `${where}.open`),
        high: num(o.high, `${where}.high`),
        low: num(o.low, `${where}.low`),
        close: num(o.close, `${where}.close`),
        volume: num(o.volume, `${where}.volume`),
      };
    default:
      throw bad(`${where}.type`, "expected trade, quote, book or bar", o.type);
  }
}

function bad(path: string, expected: string, got: unknown): TickringError {
  let shown: string;
  try {
    shown = JSON.stringify(got) ?? String(got);
  } catch {
    shown = String(got);
  }
  return new TickringError(
    "BAD_TICK",
    `${path}: ${expected}, got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`,
  );
}

function num(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(path, "expected a finite number", v);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw bad(path, "expected true or false", v);
  return v;
}

function u32(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw bad(path, "expected an integer from 0 to 4294967295", v);
  }
  return v;
}

function side(v: unknown, path: string): "buy" | "sell" {
  if (v !== "buy" && v !== "sell") throw bad(path, 'expected "buy" or "sell"', v);
  return v;
}

/** Nanoseconds: a decimal string, or a JSON number when it is a safe integer. */
function nanos(v: unknown, path: string): bigint {
  const x = integerOf(v);
  if (x === undefined || x < 0n || x > MAX_I64) {
    throw bad(path, "expected nanoseconds as a decimal string (or a safe-integer number)", v);
  }
  return x;
}

function u64(v: unknown, path: string): bigint {
  const x = integerOf(v);
  if (x === undefined || x < 0n || x >= 1n << 64n) throw bad(path, "expected an unsigned 64-bit integer", v);
  return x;
}

function integerOf(v: unknown): bigint | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return BigInt(v);
  return undefined;
}

function levels(v: unknown, path: string): BookLevel[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 4096) throw bad(path, "expected an array of at most 4096 levels", v);
  return v.map((l, i) => {
    const p = `${path}[${i}]`;
    if (Array.isArray(l)) return { price: num(l[0], `${p}[0]`), size: num(l[1], `${p}[1]`) };
    if (typeof l !== "object" || l === null)
      throw bad(p, "expected {price, size[, count]} or [price, size]", l);
    const o = l as Record<string, unknown>;
    return {
      price: num(o.price, `${p}.price`),
      size: num(o.size, `${p}.size`),
      count: o.count === undefined ? 0 : u32(o.count, `${p}.count`),
    };
  });
}
