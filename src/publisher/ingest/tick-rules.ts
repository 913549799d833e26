/**
 * The rules a tick must meet, in one place for both ways ticks come in:
 *
 * - the wire's JSON (`/v1/ingest`): snake_case fields, 64-bit integers as decimal strings (or numbers
 *   when they are safe integers), book levels as `[price, size]` or `{price, size, count}`;
 * - the embedding API's camelCase {@link Tick} objects (`Tickring.ingest`), with bigints.
 *
 * Both get the same checks from the same table: a known `type`, a symbol by the symbol rules, finite
 * numbers, integers in range, at most {@link MAX_LEVELS} levels a side, every required field and no
 * unknown one. Errors are BAD_TICK and name the field as the caller spelled it (`ticks[3].bid_price`,
 * `ticks[3].bidPrice`); the path is built only when throwing, so a valid tick costs no strings.
 */
import { TickringError } from "../../errors.js";
import type { BookLevel, Tick } from "../../frame/codec.js";
import { preview } from "../../frame/preview.js";
import { SYMBOL_RULE, symbolProblem } from "../../frame/symbol-rules.js";

/** How a tick is spelled: the wire's JSON, or a {@link Tick} object. */
export type Spelling = typeof JSON_SPELLING | typeof TICK_SPELLING;
export const JSON_SPELLING = 0;
export const TICK_SPELLING = 1;

/** Most price levels on one side of a book. */
export const MAX_LEVELS = 4096;
/** Most ticks (or frames) in one ingest message. */
export const MAX_TICKS_PER_MESSAGE = 100_000;

const MAX_I64 = (1n << 63n) - 1n;
const MAX_U64 = (1n << 64n) - 1n;

/** A reader's answer for a value that breaks the field's rule. */
const INVALID: unique symbol = Symbol("invalid");

const OPTIONAL = 0;
const REQUIRED = 1;
/** Optional on the wire (with a default), required in a {@link Tick} (its type says so). */
const REQUIRED_IN_TICK = 2;

interface Field {
  /** The field's name in each spelling: [JSON, Tick]. */
  readonly names: readonly [string, string];
  readonly presence: typeof OPTIONAL | typeof REQUIRED | typeof REQUIRED_IN_TICK;
  /** What the value must be, in each spelling, for messages. */
  readonly expected: readonly [string, string];
  /** The value as a Tick holds it, or INVALID. `index` and `name` are for errors deeper in the value. */
  readonly read: (v: unknown, s: Spelling, index: number, name: string) => unknown;
}

const finite = (v: unknown): unknown => (typeof v === "number" && Number.isFinite(v) ? v : INVALID);
const u32 = (v: unknown): unknown =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff ? v : INVALID;
const bool = (v: unknown): unknown => (typeof v === "boolean" ? v : INVALID);
/** The JSON tick's `null` is "unknown", as frames render it. */
const side = (v: unknown, s: Spelling): unknown =>
  v === "buy" || v === "sell" ? v : v === null && s === JSON_SPELLING ? undefined : INVALID;

/** A 64-bit integer from 0 to `max`: a bigint in a Tick; a decimal string or a safe integer in JSON. */
function integer(v: unknown, s: Spelling, max: bigint): unknown {
  let x: bigint;
  if (s === TICK_SPELLING) {
    if (typeof v !== "bigint") return INVALID;
    x = v;
  } else if (typeof v === "bigint") {
    // JSON text never yields one; `tickring import` hands its parsed times over as they are.
    x = v;
  } else if (typeof v === "number" && Number.isSafeInteger(v)) {
    x = BigInt(v);
  } else if (typeof v === "string" && v.length <= 20 && /^\d+$/.test(v)) {
    x = BigInt(v);
  } else {
    return INVALID;
  }
  return x >= 0n && x <= max ? x : INVALID;
}
const nanos = (v: unknown, s: Spelling): unknown => integer(v, s, MAX_I64);
const u64 = (v: unknown, s: Spelling): unknown => integer(v, s, MAX_U64);

const field = (
  json: string,
  tick: string,
  presence: Field["presence"],
  expected: string | readonly [string, string],
  read: Field["read"],
): Field => ({
  names: [json, tick],
  presence,
  expected: typeof expected === "string" ? [expected, expected] : expected,
  read,
});
const num = (json: string, tick: string): Field =>
  field(json, tick, REQUIRED, "expected a finite number", finite);
const NANOS = [
  "expected nanoseconds as a decimal string (or a safe-integer number)",
  "expected nanoseconds as a bigint from 0 to 2^63 - 1",
] as const;
const U64 = [
  "expected an unsigned 64-bit integer as a decimal string (or a safe-integer number)",
  "expected an unsigned 64-bit integer as a bigint",
] as const;

/** A tick type: its fields after type and symbol, and how a JSON tick's values become a Tick. */
interface Shape {
  readonly fields: readonly Field[];
  /** Every field name of the type, per spelling, for the unknown-field message. */
  readonly names: readonly [string, string];
  readonly make: (symbol: string, v: unknown[]) => Tick;
}

function shape(type: string, own: Field[], make: Shape["make"]): Shape {
  const fields: Field[] = [
    field("instrument_id", "instrumentId", OPTIONAL, "expected an integer from 0 to 4294967295", u32),
    field("ts_event", "tsEvent", OPTIONAL, NANOS, nanos),
    ...own,
  ];
  const list = (s: Spelling): string => ["type", "symbol", ...fields.map((f) => f.names[s])].join(", ");
  return { fields, names: [`a ${type} has ${list(0)}`, `a ${type} has ${list(1)}`], make };
}

// The index of each value in `make`'s array is its field's position: instrument_id 0, ts_event 1, then own.
const TRADE = shape(
  "trade",
  [
    num("price", "price"),
    num("size", "size"),
    field(
      "aggressor",
      "aggressor",
      OPTIONAL,
      ['expected "buy", "sell" or null', 'expected "buy" or "sell"'],
      side,
    ),
    field("trade_id", "tradeId", OPTIONAL, U64, u64),
  ],
  (symbol, v) => ({
    type: "trade",
    symbol,
    instrumentId: v[0] as number | undefined,
    tsEvent: v[1] as bigint | undefined,
    price: v[2] as number,
    size: v[3] as number,
    aggressor: v[4] as "buy" | "sell" | undefined,
    tradeId: v[5] as bigint | undefined,
  }),
);
const QUOTE = shape(
  "quote",
  [
    num("bid_price", "bidPrice"),
    num("bid_size", "bidSize"),
    num("ask_price", "askPrice"),
    num("ask_size", "askSize"),
  ],
  (symbol, v) => ({
    type: "quote",
    symbol,
    instrumentId: v[0] as number | undefined,
    tsEvent: v[1] as bigint | undefined,
    bidPrice: v[2] as number,
    bidSize: v[3] as number,
    askPrice: v[4] as number,
    askSize: v[5] as number,
  }),
);
const LEVELS = `expected an array of at most ${MAX_LEVELS} levels`;
const BOOK = shape(
  "book",
  [
    field("snapshot", "snapshot", REQUIRED_IN_TICK, "expected true or false", bool),
    field("bids", "bids", REQUIRED_IN_TICK, LEVELS, readLevels),
    field("asks", "asks", REQUIRED_IN_TICK, LEVELS, readLevels),
  ],
  (symbol, v) => ({
    type: "book",
    symbol,
    instrumentId: v[0] as number | undefined,
    tsEvent: v[1] as bigint | undefined,
    snapshot: (v[2] as boolean | undefined) ?? false,
    bids: (v[3] as BookLevel[] | undefined) ?? [],
    asks: (v[4] as BookLevel[] | undefined) ?? [],
  }),
);
const BAR = shape(
  "bar",
  [
    field("interval_ns", "intervalNs", REQUIRED, NANOS, nanos),
    num("open", "open"),
    num("high", "high"),
    num("low", "low"),
    num("close", "close"),
    num("volume", "volume"),
    field("trades", "trades", OPTIONAL, "expected an integer from 0 to 4294967295", u32),
    field("vwap", "vwap", OPTIONAL, "expected a finite number", finite),
    field("revision", "revision", OPTIONAL, "expected an integer from 0 to 4294967295", u32),
  ],
  (symbol, v) => ({
    type: "bar",
    symbol,
    instrumentId: v[0] as number | undefined,
    tsEvent: v[1] as bigint | undefined,
    intervalNs: v[2] as bigint,
    open: v[3] as number,
    high: v[4] as number,
    low: v[5] as number,
    close: v[6] as number,
    volume: v[7] as number,
    trades: v[8] as number | undefined,
    vwap: v[9] as number | undefined,
    revision: v[10] as number | undefined,
  }),
);

/** One tick's values, reused from tick to tick (a tick has at most 11 fields after type and symbol). */
const values: unknown[] = new Array(11).fill(undefined);

/**
 * Checks one tick spelled `s`; `index` is its place in the message (-1: a message of one tick). Returns
 * the Tick: built from a JSON tick, or the given object itself once it passed. Throws BAD_TICK.
 */
export function readTick(raw: unknown, s: Spelling, index: number): Tick {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw tickError(index, "", "expected a tick object", raw);
  }
  const o = raw as Record<string, unknown>;
  const type = o.type;
  const shape =
    type === "trade"
      ? TRADE
      : type === "quote"
        ? QUOTE
        : type === "book"
          ? BOOK
          : type === "bar"
            ? BAR
            : undefined;
  if (shape === undefined) throw tickError(index, ".type", "expected trade, quote, book or bar", type);
  const symbol = o.symbol;
  const problem = typeof symbol === "string" ? symbolProblem(symbol) : "is not a string";
  if (problem !== undefined) {
    throw tickError(index, ".symbol", `expected a symbol of ${SYMBOL_RULE}; this one ${problem}`, symbol);
  }
  let present = 2;
  const fields = shape.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const raw = o[f.names[s]];
    if (raw === undefined) {
      if (f.presence === REQUIRED || (f.presence === REQUIRED_IN_TICK && s === TICK_SPELLING)) {
        throw tickError(index, `.${f.names[s]}`, `${f.expected[s]} (required)`, raw);
      }
      values[i] = undefined;
      continue;
    }
    present++;
    const v = f.read(raw, s, index, f.names[s]);
    if (v === INVALID) throw tickError(index, `.${f.names[s]}`, f.expected[s], raw);
    values[i] = v;
  }
  if (countKeys(o) !== present) refuseUnknown(o, shape, s, index);
  return s === TICK_SPELLING ? (raw as Tick) : shape.make(symbol as string, values);
}

/** Own enumerable keys of `o`, without allocating Object.keys' array. */
function countKeys(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

/** The key count disagreed: throws for the first key that is no field of the tick's type. */
function refuseUnknown(o: Record<string, unknown>, shape: Shape, s: Spelling, index: number): void {
  for (const k in o) {
    if (k === "type" || k === "symbol") continue;
    if (!shape.fields.some((f) => f.names[s] === k)) {
      throw new TickringError("BAD_TICK", `${where(index)}: unknown field ${preview(k)}; ${shape.names[s]}`);
    }
  }
  // Only keys whose value is undefined (a Tick's optional fields) were uncounted: nothing unknown.
}

/** A side of a book: levels as objects (or, in JSON, `[price, size]` pairs); JSON's are copied into BookLevels. */
function readLevels(v: unknown, s: Spelling, index: number, name: string): unknown {
  if (!Array.isArray(v) || v.length > MAX_LEVELS) return INVALID;
  const out: BookLevel[] = s === JSON_SPELLING ? new Array<BookLevel>(v.length) : v;
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    if (s === JSON_SPELLING && Array.isArray(l)) {
      if (l.length !== 2 || finite(l[0]) === INVALID || finite(l[1]) === INVALID) {
        throw levelError(name, l, index, i, "", "expected [price, size] (finite numbers)");
      }
      out[i] = { price: l[0] as number, size: l[1] as number };
      continue;
    }
    if (typeof l !== "object" || l === null || Array.isArray(l)) {
      throw levelError(
        name,
        l,
        index,
        i,
        "",
        s === JSON_SPELLING
          ? "expected {price, size[, count]} or [price, size]"
          : "expected {price, size[, count]}",
      );
    }
    const o = l as Record<string, unknown>;
    if (finite(o.price) === INVALID)
      throw levelError(name, o.price, index, i, ".price", "expected a finite number");
    if (finite(o.size) === INVALID)
      throw levelError(name, o.size, index, i, ".size", "expected a finite number");
    if (o.count !== undefined && u32(o.count) === INVALID) {
      throw levelError(name, o.count, index, i, ".count", "expected an integer from 0 to 4294967295");
    }
    if (countKeys(o) !== (o.count === undefined ? 2 : 3) && !levelKeysKnown(o)) {
      throw levelError(name, l, index, i, "", "expected only price, size and count");
    }
    if (s === JSON_SPELLING)
      out[i] = {
        price: o.price as number,
        size: o.size as number,
        count: (o.count as number | undefined) ?? 0,
      };
  }
  return out;
}

function levelKeysKnown(o: object): boolean {
  for (const k in o) if (k !== "price" && k !== "size" && k !== "count") return false;
  return true;
}

function levelError(
  name: string,
  got: unknown,
  index: number,
  i: number,
  sub: string,
  expected: string,
): TickringError {
  return new TickringError(
    "BAD_TICK",
    `${where(index)}.${name}[${i}]${sub}: ${expected}, got ${preview(got)}`,
  );
}

function tickError(index: number, path: string, expected: string, got: unknown): TickringError {
  return new TickringError("BAD_TICK", `${where(index)}${path}: ${expected}, got ${preview(got)}`);
}

function where(index: number): string {
  return index < 0 ? "tick" : `ticks[${index}]`;
}

/**
 * Checks a {@link Tick} of the embedding API by the wire's rules (see the module doc) and throws BAD_TICK
 * naming the field (`tick.price`) when it breaks one. Call it before handing ticks to the sequencer.
 */
export function validateTick(tick: Tick): void {
  readTick(tick, TICK_SPELLING, -1);
}

/** {@link validateTick} for each of `ticks`; errors name the tick's index (`ticks[3].bidPrice`). */
export function validateTicks(ticks: readonly Tick[]): void {
  for (let i = 0; i < ticks.length; i++) readTick(ticks[i], TICK_SPELLING, i);
}
