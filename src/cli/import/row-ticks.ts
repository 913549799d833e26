/**
 * CSV rows to ticks, for `tickring import csv`. A row becomes a tick in the wire's JSON spelling (the
 * snake_case fields of docs/protocol.md) and is checked by the very rules `/v1/ingest` applies
 * (`readTick`), so an offline import accepts exactly what an online one would. Errors name the file, the
 * line and the field, and quote a short prefix of the cell.
 *
 * Columns: a header row is recognized (no cell is a number and at least one is a column name; unknown
 * columns are ignored and reported), or `--columns` names them, or the type's default applies. A `type`
 * column lets one file mix types (what `tickring export` writes); `seq` and `ts_recv` columns are read and
 * ignored (the target assigns its own).
 */
import { OptionError, TickringError } from "../../errors.js";
import type { Tick } from "../../frame/codec.js";
import { preview } from "../../frame/preview.js";
import { JSON_SPELLING, readTick } from "../../publisher/ingest/tick-rules.js";

export type TickType = "trade" | "quote" | "bar" | "book";
export type TimeFormat = "auto" | "iso" | "s" | "ms" | "us" | "ns";
/** `auto` under a `ts_event` header: ISO-8601 or nanoseconds (what `tickring export` writes). */
type ReadFormat = TimeFormat | "nsOrIso";

/** Every column a tick can have, in the JSON spelling. */
const FIELDS = [
  "type",
  "symbol",
  "instrument_id",
  "ts_event",
  "price",
  "size",
  "aggressor",
  "trade_id",
  "bid_price",
  "bid_size",
  "ask_price",
  "ask_size",
  "snapshot",
  "bids",
  "asks",
  "interval_ns",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "trades",
  "vwap",
  "revision",
] as const;
type Field = (typeof FIELDS)[number];

/** Columns read and dropped: the target assigns its own seq and ts_recv. */
const IGNORED = new Set(["seq", "ts_recv"]);
/** Other names files use for a column. */
const ALIASES: Record<string, Field> = {
  time: "ts_event",
  timestamp: "ts_event",
  datetime: "ts_event",
  date: "ts_event",
  ticker: "symbol",
  sym: "symbol",
  qty: "size",
  quantity: "size",
};

/** The columns of a file without a header, by type. */
export const DEFAULT_COLUMNS: Record<TickType, readonly Field[]> = {
  trade: ["symbol", "ts_event", "price", "size"],
  quote: ["symbol", "ts_event", "bid_price", "bid_size", "ask_price", "ask_size"],
  bar: ["symbol", "ts_event", "open", "high", "low", "close", "volume"],
  book: ["symbol", "ts_event", "snapshot", "bids", "asks"],
};

const NUMERIC = new Set<Field>([
  "price",
  "size",
  "bid_price",
  "bid_size",
  "ask_price",
  "ask_size",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "vwap",
  "instrument_id",
  "trades",
  "revision",
]);
/** Fields kept as decimal text (64-bit integers). */
const INTEGER_TEXT = new Set<Field>(["trade_id", "interval_ns"]);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** How to read rows. */
export interface RowOptions {
  /** The type of rows without a `type` column. */
  type: TickType;
  /** The columns, overriding a header and the default. */
  columns?: readonly string[];
  timeFormat: TimeFormat;
  /** The symbol of rows without a `symbol` column. */
  symbol?: string;
  /** A bar's interval when there is no `interval_ns` column, ns. */
  intervalNs?: bigint;
}

/** A column name as written → its field, or undefined (unknown); `null` for a column read and ignored. */
function fieldOf(name: string): Field | null | undefined {
  const n = name.trim().toLowerCase();
  if (IGNORED.has(n)) return null;
  if ((FIELDS as readonly string[]).includes(n)) return n as Field;
  return ALIASES[n];
}

export class RowTicks {
  /** The field of each column (undefined: ignored). */
  private fields: (Field | undefined)[];
  /** Header columns that are no field and were ignored. */
  readonly ignoredColumns: string[] = [];
  /** How ts_event is read: `auto` numbers are ns in a column headed `ts_event` (the protocol's own name). */
  private timeFormat: ReadFormat;

  constructor(private readonly o: RowOptions) {
    this.timeFormat = o.timeFormat;
    if (o.columns !== undefined) {
      this.fields = o.columns.map((c) => {
        const f = fieldOf(c);
        if (f === undefined) {
          throw new OptionError(
            "--columns",
            `unknown column ${preview(c)}; columns are ${FIELDS.join(", ")}`,
          );
        }
        return f ?? undefined;
      });
    } else {
      this.fields = DEFAULT_COLUMNS[o.type].filter((f) => !(f === "symbol" && o.symbol !== undefined));
    }
  }

  /** The columns in force, as field names (`-` for ignored ones). */
  get columns(): string[] {
    return this.fields.map((f) => f ?? "-");
  }

  /**
   * Looks at the first row: when it is a header (no number in it, a column name at least) and `--columns`
   * was not given, its names become the columns. Returns whether it was a header (then it is no data).
   */
  header(cells: readonly string[]): boolean {
    const known = cells.map(fieldOf);
    const isHeader = cells.every((c) => !NUMBER.test(c.trim())) && known.some((f) => f !== undefined);
    if (!isHeader || this.o.columns !== undefined) return isHeader;
    this.fields = known.map((f, i) => {
      if (f === undefined) this.ignoredColumns.push(cells[i]);
      return f ?? undefined;
    });
    if (this.timeFormat === "auto" && cells.some((c) => c.trim().toLowerCase() === "ts_event")) {
      this.timeFormat = "nsOrIso";
    }
    return true;
  }

  /**
   * The row as a tick in the wire's JSON spelling, checked by the ingest rules; throws BAD_TICK naming
   * `where` (file:line) and the field. (Checked with ts_event as a bigint, which the rules take as they take
   * its decimal string, so that a time is not turned into text and parsed back.)
   */
  json(cells: readonly string[], where: string): Record<string, unknown> {
    const t = this.build(cells, where);
    this.read(t, where);
    t.ts_event = String(t.ts_event); // a bigint until now; JSON wants the decimal string
    return t;
  }

  /** The row as a {@link Tick} (camelCase, bigints), checked as {@link json} checks it. */
  toTick(cells: readonly string[], where: string): Tick {
    return this.read(this.build(cells, where), where);
  }

  /** The row's fields in the JSON spelling (a new object: deleting keys of a reused one costs more). */
  private build(cells: readonly string[], where: string): Record<string, unknown> {
    const t: Record<string, unknown> = {};
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (f === undefined) continue;
      const cell = i < cells.length ? cells[i].trim() : "";
      if (cell === "") continue;
      t[f] = this.value(f, cell, where);
    }
    if (cells.length > fields.length && cells.slice(fields.length).some((c) => c.trim() !== "")) {
      throw new TickringError("BAD_TICK", `${where}: ${cells.length} cells, but ${fields.length} columns`);
    }
    t.type ??= this.o.type;
    if (t.symbol === undefined && this.o.symbol !== undefined) t.symbol = this.o.symbol;
    if (t.type === "bar" && t.interval_ns === undefined && this.o.intervalNs !== undefined) {
      t.interval_ns = String(this.o.intervalNs);
    }
    if (t.ts_event === undefined) throw new TickringError("BAD_TICK", `${where}: ts_event: required`);
    return t;
  }

  private read(t: Record<string, unknown>, where: string): Tick {
    try {
      return readTick(t, JSON_SPELLING, -1);
    } catch (err) {
      if (err instanceof TickringError) {
        throw new TickringError("BAD_TICK", `${where}: ${err.message.replace(/^tick\.?/, "")}`);
      }
      throw err;
    }
  }

  private value(f: Field, cell: string, where: string): unknown {
    if (f === "ts_event") return parseTime(cell, this.timeFormat, where);
    if (NUMERIC.has(f)) return NUMBER.test(cell) ? Number(cell) : cell;
    if (INTEGER_TEXT.has(f)) return cell;
    if (f === "snapshot")
      return cell === "true" || cell === "1" ? true : cell === "false" || cell === "0" ? false : cell;
    if (f === "bids" || f === "asks") return levels(cell);
    return cell;
  }
}

/** Book levels written `price:size:count price:size:count` (as `tickring export` writes them). */
function levels(cell: string): unknown {
  return cell
    .split(/\s+/)
    .filter((l) => l !== "")
    .map((l) => {
      const [price, size, count] = l.split(":");
      const n = (x: string | undefined) => (x !== undefined && NUMBER.test(x) ? Number(x) : x);
      return count === undefined
        ? { price: n(price), size: n(size) }
        : { price: n(price), size: n(size), count: n(count) };
    });
}

/** The last ISO time's date and time to the second (`2026-11-23T14:30:00.`), and its ns. */
const isoCache = { prefix: "\0", ns: 0n };

const UNIT_NS: Record<"s" | "ms" | "us" | "ns", bigint> = {
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1000n,
  ns: 1n,
};
const ISO = /^(\d{4}-\d\d-\d\d)(?:[T ](\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:?\d\d)?$/i;

/**
 * A time as ns since the epoch. `auto`: ISO-8601 when it starts with a date, else a number whose magnitude
 * says its unit (≥ 17 digits ns, ≥ 14 µs, ≥ 11 ms, else s). An ISO time without a zone is UTC.
 */
export function parseTime(text: string, format: ReadFormat, where: string): bigint {
  let f = format;
  if (f === "nsOrIso") f = /^\d{4}-\d\d-\d\d/.test(text) ? "iso" : "ns";
  if (f === "auto") {
    if (/^\d{4}-\d\d-\d\d/.test(text)) f = "iso";
    else {
      const digits = text.split(".")[0].replace(/^[+-]/, "").length;
      f = digits >= 17 ? "ns" : digits >= 14 ? "us" : digits >= 11 ? "ms" : "s";
    }
  }
  if (f === "iso") {
    // Rows of a session share their date and time to the second: parse that once per second.
    const whole = text.length > 19 && text[19] === "." && (text.endsWith("Z") || text.endsWith("z"));
    if (whole && text.startsWith(isoCache.prefix)) {
      const fraction = text.slice(20, -1);
      if (/^\d{1,9}$/.test(fraction)) return isoCache.ns + BigInt(Number(fraction.padEnd(9, "0")));
    }
    const m = ISO.exec(text);
    const ms =
      m === null
        ? Number.NaN
        : Date.parse(`${m[1]}T${m[2] ?? "00:00"}${m[2]?.length === 5 ? ":00" : ""}${m[4] ?? "Z"}`);
    if (m === null || Number.isNaN(ms)) {
      throw new TickringError(
        "BAD_TICK",
        `${where}: ts_event: expected an ISO-8601 time like 2026-11-23T09:30:00.123Z, got ${preview(text)}`,
      );
    }
    // Date.parse was given whole seconds: the fraction is all of the sub-second part.
    const seconds = BigInt(ms) * 1_000_000n;
    if (whole && m[4] !== undefined && m[4].toUpperCase() === "Z") {
      isoCache.prefix = text.slice(0, 20);
      isoCache.ns = seconds;
    }
    return seconds + BigInt((m[3] ?? "").padEnd(9, "0"));
  }
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null && (format === "auto" || format === "nsOrIso")) {
    throw new TickringError(
      "BAD_TICK",
      `${where}: ts_event: expected an ISO-8601 time or a number of s, ms, µs or ns, got ${preview(text)}`,
    );
  }
  const unit = UNIT_NS[f];
  const places = unit.toString().length - 1;
  if (m === null || (m[2] ?? "").length > places) {
    throw new TickringError(
      "BAD_TICK",
      `${where}: ts_event: expected a time in ${f}${places > 0 ? ` (at most ${places} decimals)` : ""}, got ${preview(text)}`,
    );
  }
  return BigInt(m[1]) * unit + BigInt((m[2] ?? "").padEnd(places, "0") || "0");
}
