/**
 * The ingest edge: turns one publisher message (JSON ticks, or binary size-prefixed Frames) into encoded
 * frames ready for the sequencer, or rejects the whole message. It runs in the worker that owns the
 * publisher's socket, so parsing and encoding never take time from the sequencer's thread; the sequencer
 * only stamps seq and ts_recv into the bytes (see `stampFrame`). ts_event 0 means "unset": the
 * sequencer replaces it with ts_recv.
 */
import { TickringError } from "../errors.js";
import {
  Bar,
  Body,
  type BookLevel,
  BookUpdate,
  FrameEncoder,
  FrameView,
  frameBodyType,
  frameLength,
  frameSymbolSpan,
  isStampable,
  type Level,
  Quote,
  SIZE_PREFIX_LENGTH,
  Side,
  type Tick,
  Trade,
} from "../frame/codec.js";
import { verifyFrame } from "../frame/verify.js";

/** Encoded frames of one accepted message, in a transferable buffer. */
export interface DecodedIngest {
  frames: ArrayBuffer;
  count: number;
  /** The envelope's `id`, echoed by the ack or error of this message. */
  id?: string | number;
}

const MAX_TICKS_PER_MESSAGE = 100_000;
const MAX_I64 = (1n << 63n) - 1n;

export class IngestDecoder {
  private readonly encoder = new FrameEncoder();
  private readonly view = new FrameView();
  private readonly trade = new Trade();
  private readonly quote = new Quote();
  private readonly book = new BookUpdate();
  private readonly bar = new Bar();
  private scratch = new Uint8Array(64 * 1024);
  private used = 0;

  /** Decodes a whole message; throws {@link TickringError} (nothing of the message is kept). */
  decode(message: ArrayBuffer | Uint8Array, isBinary: boolean): DecodedIngest {
    this.used = 0;
    const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
    const count = isBinary ? this.decodeBinary(bytes) : this.decodeJson(bytes);
    return { frames: this.scratch.slice(0, this.used).buffer, count };
  }

  private decodeJson(bytes: Uint8Array): number {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
    } catch (err) {
      throw new TickringError("BAD_JSON", `message is not JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    if (list.length === 0) throw new TickringError("BAD_TICK", "empty array: send at least one tick");
    if (list.length > MAX_TICKS_PER_MESSAGE) {
      throw new TickringError(
        "BAD_TICK",
        `${list.length} ticks in one message; at most ${MAX_TICKS_PER_MESSAGE}`,
      );
    }
    for (let i = 0; i < list.length; i++) {
      const where = Array.isArray(parsed) ? `ticks[${i}]` : "tick";
      this.push(this.encoder.encode(parseTick(list[i], where), 0n, 0n));
    }
    return list.length;
  }

  private decodeBinary(bytes: Uint8Array): number {
    let count = 0;
    for (let off = 0; off < bytes.length; count++) {
      if (bytes.length - off < SIZE_PREFIX_LENGTH) {
        throw new TickringError(
          "BAD_FRAME",
          `frame ${count}: ${bytes.length - off} trailing bytes are not a frame`,
        );
      }
      const len = frameLength(bytes, off);
      if (off + len > bytes.length) {
        throw new TickringError(
          "BAD_FRAME",
          `frame ${count}: size prefix says ${len} bytes, ${bytes.length - off} remain`,
        );
      }
      try {
        verifyFrame(bytes, off, len);
        checkPublishable(bytes, off);
        // Frames that already have every slot the sequencer stamps are kept as sent: no re-encode.
        this.push(
          isStampable(bytes, off)
            ? bytes.subarray(off, off + len)
            : this.encoder.encode(this.toTick(bytes, off), 0n, 0n),
        );
      } catch (err) {
        if (err instanceof TickringError) throw new TickringError(err.code, `frame ${count}: ${err.message}`);
        throw err;
      }
      off += len;
      if (count >= MAX_TICKS_PER_MESSAGE) {
        throw new TickringError("BAD_FRAME", `more than ${MAX_TICKS_PER_MESSAGE} frames in one message`);
      }
    }
    if (count === 0) throw new TickringError("BAD_FRAME", "empty binary message");
    return count;
  }

  /** Reads a verified frame back into a tick, so it is re-encoded with every field present. */
  private toTick(bytes: Uint8Array, off: number): Tick {
    const f = this.view.wrap(bytes, off);
    const base = {
      symbol: f.symbol() ?? "",
      instrumentId: f.instrumentId() || undefined,
      tsEvent: f.tsEvent(),
    };
    switch (f.bodyType()) {
      case Body.Trade: {
        const t = f.body(this.trade) as Trade;
        const side = t.aggressor();
        const aggressor = side === Side.Buy ? "buy" : side === Side.Sell ? "sell" : undefined;
        return { ...base, type: "trade", price: t.price(), size: t.size(), aggressor, tradeId: t.tradeId() };
      }
      case Body.Quote: {
        const q = f.body(this.quote) as Quote;
        return {
          ...base,
          type: "quote",
          bidPrice: q.bidPrice(),
          bidSize: q.bidSize(),
          askPrice: q.askPrice(),
          askSize: q.askSize(),
        };
      }
      case Body.BookUpdate: {
        const u = f.body(this.book) as BookUpdate;
        const bids = levelsOf(u.bidsLength(), (i) => u.bids(i));
        const asks = levelsOf(u.asksLength(), (i) => u.asks(i));
        return { ...base, type: "book", snapshot: u.snapshot(), bids, asks };
      }
      case Body.Bar: {
        const b = f.body(this.bar) as Bar;
        return {
          ...base,
          type: "bar",
          intervalNs: b.intervalNs(),
          open: b.open(),
          high: b.high(),
          low: b.low(),
          close: b.close(),
          volume: b.volume(),
        };
      }
      default:
        throw new TickringError(
          "BAD_FRAME",
          "heartbeats are the server's; publish Trade, Quote, BookUpdate or Bar",
        );
    }
  }

  private push(frame: Uint8Array): void {
    if (this.used + frame.length > this.scratch.length) {
      const grown = new Uint8Array(Math.max(this.scratch.length * 2, this.used + frame.length));
      grown.set(this.scratch.subarray(0, this.used));
      this.scratch = grown;
    }
    this.scratch.set(frame, this.used);
    this.used += frame.length;
  }
}

/** What the structure allows but a publisher may not send: heartbeats (the server's) and empty symbols. */
function checkPublishable(bytes: Uint8Array, off: number): void {
  if (frameBodyType(bytes, off) === Body.Heartbeat) {
    throw new TickringError(
      "BAD_FRAME",
      "heartbeats are the server's; publish Trade, Quote, BookUpdate or Bar",
    );
  }
  const span = [0, 0];
  frameSymbolSpan(bytes, off, span);
  if (span[1] === 0 || span[1] > 64)
    throw new TickringError("BAD_FRAME", `symbol of ${span[1]} bytes: expected 1–64`);
}

function levelsOf(n: number, at: (i: number) => Level | null): BookLevel[] {
  const out: BookLevel[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const l = at(i)!;
    out[i] = { price: l.price(), size: l.size(), count: l.count() };
  }
  return out;
}

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
