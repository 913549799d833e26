/**
 * The frame codec: the one place that turns a tick into FlatBuffer bytes and reads fields back.
 *
 * A frame is encoded once, by the sequencer, size-prefixed:
 *
 * ```
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Size (u32 LE, bytes after this word)                 |
 *  +---------------------------------------------------------------+
 *  |          Root table offset (u32 LE, from this word)           |
 *  +---------------------------------------------------------------+
 *  |          File identifier "TKR1"                               |
 *  +---------------------------------------------------------------+
 *  |          FlatBuffer tables, vtables, strings ...             ...
 *  +---------------------------------------------------------------+
 * ```
 *
 * Every Frame has 8-byte fields, so FlatBuffers aligns the finished buffer to 8: `4 + size` is always a
 * multiple of {@link FRAME_ALIGNMENT}. The ring relies on that to store frames back to back with no padding,
 * which makes any run of ring records a valid WebSocket payload of several frames.
 *
 * Encoding reuses one Builder and caches each symbol's UTF-8 bytes, so steady-state encoding allocates only
 * the BigInts the FlatBuffers API takes for 64-bit fields.
 */
import * as flatbuffers from "flatbuffers";
import { TickringError } from "../errors.js";
import { Bar } from "./generated/tickring/fb/bar.js";
import { Body } from "./generated/tickring/fb/body.js";
import { BookUpdate } from "./generated/tickring/fb/book-update.js";
import { Frame } from "./generated/tickring/fb/frame.js";
import { Heartbeat } from "./generated/tickring/fb/heartbeat.js";
import { Level } from "./generated/tickring/fb/level.js";
import { Quote } from "./generated/tickring/fb/quote.js";
import { Side } from "./generated/tickring/fb/side.js";
import { Trade } from "./generated/tickring/fb/trade.js";

export { Bar, Body, BookUpdate, Frame, Heartbeat, Level, Quote, Side, Trade };

/** Bytes of the little-endian size prefix in front of every frame. */
export const SIZE_PREFIX_LENGTH = 4;
/** Every size-prefixed frame's total length is a multiple of this. */
export const FRAME_ALIGNMENT = 8;
/** The FlatBuffers file identifier of a Frame. */
export const FILE_IDENTIFIER = "TKR1";
/** Largest frame the codec accepts, prefix included (a book with ~4K levels a side). */
export const MAX_FRAME_LENGTH = 256 * 1024;

// Vtable slots of Frame's fields (4 + 2 × field index), as flatc numbered them in frame.ts.
const VT_SEQ = 4;
const VT_TS_EVENT = 6;
const VT_TS_RECV = 8;
const VT_INSTRUMENT_ID = 10;
const VT_SYMBOL = 12;
const VT_BODY_TYPE = 14;
const VT_BODY = 16;

/** A price level of a book. */
export interface BookLevel {
  price: number;
  size: number;
  /** Orders at the level; 0 when unknown. */
  count?: number;
}

interface TickBase {
  symbol: string;
  /** Defaults to {@link instrumentIdOf}(symbol). */
  instrumentId?: number;
  /** Nanoseconds since the Unix epoch; defaults to the frame's ts_recv. */
  tsEvent?: bigint;
}

export interface TradeTick extends TickBase {
  type: "trade";
  price: number;
  size: number;
  aggressor?: "buy" | "sell";
  tradeId?: bigint;
}

export interface QuoteTick extends TickBase {
  type: "quote";
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
}

export interface BookTick extends TickBase {
  type: "book";
  snapshot: boolean;
  bids: BookLevel[];
  asks: BookLevel[];
}

export interface BarTick extends TickBase {
  type: "bar";
  intervalNs: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Trades in the bar; 0 = unknown (a publisher's bar, or one written before the field existed). */
  trades?: number;
  /** Volume-weighted average price; 0 = unknown. */
  vwap?: number;
  /** Corrections of this bar so far: 0 for its first emission. */
  revision?: number;
}

/** A market-data event before the sequencer has given it a seq. */
export type Tick = TradeTick | QuoteTick | BookTick | BarTick;

/** The `type` names of ticks, as the JSON protocol spells them. */
export const TICK_TYPES = ["trade", "quote", "book", "bar"] as const;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The symbol key: FNV-1a over the symbol's UTF-8 bytes. Feeds, the last-value cache and the store's symbol
 * index look frames up by it, computed from the frame's own symbol bytes ({@link frameSymbolKey}) — never by
 * the frame's `instrument_id`, which a publisher may set to anything. Two symbols may share a key: lookups
 * compare the symbol bytes too ({@link frameSymbolEquals}). It is the same after a restart, with no registry
 * to persist.
 */
export function symbolKeyOf(symbol: string): number {
  // UTF-8 encoded on the fly, not with TextEncoder: the encoder calls this for every tick without an id,
  // and an array per tick showed in the ingest worker's profile.
  let h = FNV_OFFSET;
  for (let i = 0; i < symbol.length; i++) {
    let cp = symbol.charCodeAt(i);
    if (cp < 0x80) {
      h = Math.imul(h ^ cp, FNV_PRIME);
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < symbol.length) {
      const lo = symbol.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate encodes as U+FFFD, as TextEncoder does
    if (cp < 0x800) {
      h = Math.imul(h ^ (0xc0 | (cp >> 6)), FNV_PRIME);
    } else if (cp < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (cp >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
    }
    h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * The default `instrument_id` of a symbol's frames when the publisher sets none: its {@link symbolKeyOf}
 * (for ASCII symbols the same number as the UTF-16 hash earlier versions wrote).
 */
export const instrumentIdOf = symbolKeyOf;

const SYMBOL_CACHE_LIMIT = 65536;

/** Encodes ticks into size-prefixed Frame bytes. One instance per thread; not reentrant. */
export class FrameEncoder {
  private readonly builder = new flatbuffers.Builder(1024);
  private readonly textEncoder = new TextEncoder();
  private readonly symbolBytes = new Map<string, Uint8Array>();

  /**
   * Encodes `tick` with its seq and ts_recv and returns a view of the size-prefixed bytes. The view
   * belongs to the encoder and is valid until the next call: copy it to where it must live.
   */
  encode(tick: Tick, seq: bigint, tsRecv: bigint): Uint8Array {
    const b = this.reset();
    const symbol = b.createString(this.utf8(tick.symbol));
    let bodyType: Body;
    let body: flatbuffers.Offset;
    switch (tick.type) {
      case "trade":
        bodyType = Body.Trade;
        body = Trade.createTrade(
          b,
          tick.price,
          tick.size,
          tick.aggressor === "buy" ? Side.Buy : tick.aggressor === "sell" ? Side.Sell : Side.Unknown,
          tick.tradeId ?? 0n,
        );
        break;
      case "quote":
        bodyType = Body.Quote;
        body = Quote.createQuote(b, tick.bidPrice, tick.bidSize, tick.askPrice, tick.askSize);
        break;
      case "book": {
        bodyType = Body.BookUpdate;
        const bids = this.levels(tick.bids);
        const asks = this.levels(tick.asks);
        BookUpdate.startBookUpdate(b);
        BookUpdate.addSnapshot(b, tick.snapshot);
        BookUpdate.addBids(b, bids);
        BookUpdate.addAsks(b, asks);
        body = BookUpdate.endBookUpdate(b);
        break;
      }
      case "bar":
        bodyType = Body.Bar;
        body = Bar.createBar(
          b,
          tick.intervalNs,
          tick.open,
          tick.high,
          tick.low,
          tick.close,
          tick.volume,
          tick.trades ?? 0,
          tick.vwap ?? 0,
          tick.revision ?? 0,
        );
        break;
      default:
        throw new TypeError(`unknown tick type: ${(tick as { type: unknown }).type}`);
    }
    const root = Frame.createFrame(
      b,
      seq,
      tick.tsEvent ?? tsRecv,
      tsRecv,
      // The default id hashes the cached bytes: instrumentIdOf would UTF-8-encode the symbol every time.
      tick.instrumentId ?? instrumentIdOf(tick.symbol),
      symbol,
      bodyType,
      body,
    );
    b.finish(root, FILE_IDENTIFIER, true);
    return b.asUint8Array();
  }

  /** Encodes a Heartbeat frame: seq 0 (heartbeats never consume a seq), carrying the latest seq. */
  encodeHeartbeat(latestSeq: bigint, tsRecv: bigint): Uint8Array {
    const b = this.reset();
    const symbol = b.createString(this.utf8(""));
    const body = Heartbeat.createHeartbeat(b, latestSeq);
    const root = Frame.createFrame(b, 0n, tsRecv, tsRecv, 0, symbol, Body.Heartbeat, body);
    b.finish(root, FILE_IDENTIFIER, true);
    return b.asUint8Array();
  }

  /**
   * Clears the builder and forces every field to be written, so the sequencer can stamp seq and ts_recv
   * into frames encoded with 0 and readers never meet an elided field. `clear()` resets that flag.
   */
  private reset(): flatbuffers.Builder {
    this.builder.clear();
    this.builder.forceDefaults(true);
    return this.builder;
  }

  private levels(levels: BookLevel[]): flatbuffers.Offset {
    const b = this.builder;
    b.startVector(24, levels.length, 8);
    // Vectors are built back to front.
    for (let i = levels.length - 1; i >= 0; i--) {
      const l = levels[i];
      Level.createLevel(b, l.price, l.size, l.count ?? 0);
    }
    return b.endVector();
  }

  private utf8(s: string): Uint8Array {
    let bytes = this.symbolBytes.get(s);
    if (bytes === undefined) {
      if (this.symbolBytes.size >= SYMBOL_CACHE_LIMIT) this.symbolBytes.clear();
      bytes = this.textEncoder.encode(s);
      this.symbolBytes.set(s, bytes);
    }
    return bytes;
  }
}

/** Total length of the size-prefixed frame at `offset`, prefix included. */
export function frameLength(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) + SIZE_PREFIX_LENGTH;
}

/** Byte offset of the Frame table of the size-prefixed frame at `offset`. */
function tablePos(bytes: Uint8Array, offset: number): number {
  const rootWord = offset + SIZE_PREFIX_LENGTH;
  return rootWord + readU32(bytes, rootWord);
}

/** Absolute position of a field's value, or 0 when the field is absent. */
function fieldPos(bytes: Uint8Array, table: number, vtSlot: number): number {
  const vtable = table - readI32(bytes, table);
  const vtableSize = readU16(bytes, vtable);
  if (vtSlot >= vtableSize) return 0;
  const rel = readU16(bytes, vtable + vtSlot);
  return rel === 0 ? 0 : table + rel;
}

/** Absolute position of field `vtSlot` of the table at `table` (e.g. {@link FrameFields.body}), 0 when absent. */
export function tableFieldPos(bytes: Uint8Array, table: number, vtSlot: number): number {
  return table === 0 ? 0 : fieldPos(bytes, table, vtSlot);
}

/** The fields of a frame that hot paths read, filled by {@link readFrameFields} in one walk of its tables. */
export interface FrameFields {
  seq: number;
  bodyType: Body;
  /** The body table's position (0 when absent): read its fields with {@link tableFieldPos}. */
  body: number;
  /** Where the symbol's UTF-8 bytes are, how many, and their {@link symbolKeyOf} as a signed 32-bit integer. */
  symbolAt: number;
  symbolLength: number;
  symbolKey: number;
  /** ts_event's low (unsigned) and high (signed) 32 bits: exact. */
  tsEventLo: number;
  tsEventHi: number;
}

/** A {@link FrameFields} to reuse. */
export function frameFields(): FrameFields {
  return {
    seq: 0,
    bodyType: Body.NONE,
    body: 0,
    symbolAt: 0,
    symbolLength: 0,
    symbolKey: 0,
    tsEventLo: 0,
    tsEventHi: 0,
  };
}

/**
 * Reads the frame at `offset`'s seq, body, symbol and ts_event into `out`: the Frame table and its vtable
 * are located once (each `frame…` reader locates them again). With `only`, stops after the body type when
 * it is another and returns false. Allocation-free.
 */
export function readFrameFields(bytes: Uint8Array, offset: number, out: FrameFields, only?: Body): boolean {
  const table = tablePos(bytes, offset);
  const vtable = table - readI32(bytes, table);
  const vtSize = readU16(bytes, vtable);
  const bodyType = slotPos(bytes, table, vtable, vtSize, VT_BODY_TYPE);
  out.bodyType = bodyType === 0 ? Body.NONE : (bytes[bodyType] as Body);
  if (only !== undefined && out.bodyType !== only) return false;
  const seq = slotPos(bytes, table, vtable, vtSize, VT_SEQ);
  out.seq = seq === 0 ? 0 : readU32(bytes, seq) + readU32(bytes, seq + 4) * 0x1_0000_0000;
  const ts = slotPos(bytes, table, vtable, vtSize, VT_TS_EVENT);
  out.tsEventLo = ts === 0 ? 0 : readU32(bytes, ts);
  out.tsEventHi = ts === 0 ? 0 : readI32(bytes, ts + 4);
  const body = slotPos(bytes, table, vtable, vtSize, VT_BODY);
  out.body = body === 0 ? 0 : body + readU32(bytes, body);
  const symbol = slotPos(bytes, table, vtable, vtSize, VT_SYMBOL);
  let h = FNV_OFFSET;
  if (symbol === 0) {
    out.symbolAt = 0;
    out.symbolLength = 0;
  } else {
    const str = symbol + readU32(bytes, symbol);
    out.symbolAt = str + 4;
    out.symbolLength = readU32(bytes, str);
    const end = out.symbolAt + out.symbolLength;
    for (let i = out.symbolAt; i < end; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME);
  }
  out.symbolKey = h | 0;
  return true;
}

/** {@link fieldPos} with the vtable already found. */
function slotPos(bytes: Uint8Array, table: number, vtable: number, vtSize: number, slot: number): number {
  const rel = slot < vtSize ? readU16(bytes, vtable + slot) : 0;
  return rel === 0 ? 0 : table + rel;
}

/** The frame's seq as a number (exact below 2^53), read without a BigInt or an accessor object. */
export function frameSeq(bytes: Uint8Array, offset: number): number {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_SEQ);
  return p === 0 ? 0 : readU32(bytes, p) + readU32(bytes, p + 4) * 0x1_0000_0000;
}

/** The frame's ts_event in nanoseconds as a number (loses the last bits; fine for latency and pacing). */
export function frameTsEventApprox(bytes: Uint8Array, offset: number): number {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_TS_EVENT);
  return p === 0 ? 0 : readU32(bytes, p) + readI32(bytes, p + 4) * 0x1_0000_0000;
}

/** The frame's ts_recv in nanoseconds as a number (loses the last bits; fine for pacing and delays). */
export function frameTsRecvApprox(bytes: Uint8Array, offset: number): number {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_TS_RECV);
  return p === 0 ? 0 : readU32(bytes, p) + readI32(bytes, p + 4) * 0x1_0000_0000;
}

/** Absolute position of the frame's ts_event (an int64 LE), or 0 when absent. */
export function frameTsEventPos(bytes: Uint8Array, offset: number): number {
  return fieldPos(bytes, tablePos(bytes, offset), VT_TS_EVENT);
}

/** Absolute position of the frame's ts_recv (an int64 LE), or 0 when absent. */
export function frameTsRecvPos(bytes: Uint8Array, offset: number): number {
  return fieldPos(bytes, tablePos(bytes, offset), VT_TS_RECV);
}

/** The frame's instrument id. */
export function frameInstrumentId(bytes: Uint8Array, offset: number): number {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_INSTRUMENT_ID);
  return p === 0 ? 0 : readU32(bytes, p);
}

/** The frame's body type (a {@link Body} value). */
export function frameBodyType(bytes: Uint8Array, offset: number): Body {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_BODY_TYPE);
  return p === 0 ? Body.NONE : (bytes[p] as Body);
}

/**
 * Where the frame's symbol bytes are: sets `out[0]` to their offset and `out[1]` to their length (both 0
 * when absent). No allocation, so filters can compare bytes in place.
 */
export function frameSymbolSpan(bytes: Uint8Array, offset: number, out: Int32Array | number[]): void {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_SYMBOL);
  if (p === 0) {
    out[0] = 0;
    out[1] = 0;
    return;
  }
  const str = p + readU32(bytes, p);
  out[0] = str + 4;
  out[1] = readU32(bytes, str);
}

/** The {@link symbolKeyOf} of the frame's symbol, hashed in place over its bytes (no allocation). */
export function frameSymbolKey(bytes: Uint8Array, offset: number): number {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_SYMBOL);
  let h = FNV_OFFSET;
  if (p === 0) return h;
  const str = p + readU32(bytes, p);
  const end = str + 4 + readU32(bytes, str);
  for (let i = str + 4; i < end; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME);
  return h >>> 0;
}

/**
 * Vtable slots of the body fields read in place (4 + 2 × field index, as flatc numbered them): a trade's
 * price and size, a bar's interval.
 */
export const TRADE_PRICE_SLOT = 4;
export const TRADE_SIZE_SLOT = 6;
export const BAR_INTERVAL_SLOT = 4;
export const BAR_TRADES_SLOT = 16;
export const BAR_REVISION_SLOT = 20;

/** Absolute position of field `vtSlot` of the frame's body table, or 0 when it (or the body) is absent. */
export function frameBodyFieldPos(bytes: Uint8Array, offset: number, vtSlot: number): number {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_BODY);
  return p === 0 ? 0 : fieldPos(bytes, p + readU32(bytes, p), vtSlot);
}

/**
 * A bar frame's interval in ns as a number (exact below 2^53 ns, 104 days); 0 when absent. With `isBody`,
 * `offset` is the position of the Bar table itself ({@link FrameFields.body}).
 */
export function frameBarIntervalNs(bytes: Uint8Array, offset: number, isBody = false): number {
  const p = isBody
    ? tableFieldPos(bytes, offset, BAR_INTERVAL_SLOT)
    : frameBodyFieldPos(bytes, offset, BAR_INTERVAL_SLOT);
  return p === 0 ? 0 : readU32(bytes, p) + readI32(bytes, p + 4) * 0x1_0000_0000;
}

const f64Bytes = new Uint8Array(8);
const f64 = new Float64Array(f64Bytes.buffer);
/** A Float64Array reads in the platform's byte order; frames are little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The little-endian double at `pos`, at any alignment, without a DataView or an allocation. */
export function readF64(bytes: Uint8Array, pos: number): number {
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) f64Bytes[i] = bytes[pos + i];
  else for (let i = 0; i < 8; i++) f64Bytes[7 - i] = bytes[pos + i];
  return f64[0];
}

/** Whether the frame at `bytes[offset]` carries exactly the symbol bytes `symbol` (compared in place). */
export function frameHasSymbol(bytes: Uint8Array, offset: number, symbol: Uint8Array): boolean {
  const p = fieldPos(bytes, tablePos(bytes, offset), VT_SYMBOL);
  if (p === 0) return symbol.length === 0;
  const str = p + readU32(bytes, p);
  const len = readU32(bytes, str);
  if (len !== symbol.length) return false;
  for (let i = 0; i < len; i++) if (bytes[str + 4 + i] !== symbol[i]) return false;
  return true;
}

/** Whether the frames at `a[aOff]` and `b[bOff]` carry the same symbol bytes (compared in place). */
export function frameSymbolEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  const pa = fieldPos(a, tablePos(a, aOff), VT_SYMBOL);
  const pb = fieldPos(b, tablePos(b, bOff), VT_SYMBOL);
  if (pa === 0 || pb === 0) return pa === pb;
  const sa = pa + readU32(a, pa);
  const sb = pb + readU32(b, pb);
  const len = readU32(a, sa);
  if (readU32(b, sb) !== len) return false;
  for (let i = 4; i < len + 4; i++) if (a[sa + i] !== b[sb + i]) return false;
  return true;
}

/**
 * A reusable read-only view of one frame. `wrap` points it at a size-prefixed frame inside any
 * Uint8Array (a SharedArrayBuffer view included); nothing is copied.
 */
export class FrameView {
  /** The generated accessor; valid until the next `wrap`. */
  readonly frame = new Frame();
  private bb = new flatbuffers.ByteBuffer(new Uint8Array(0));

  /** Points the view at the size-prefixed frame at `offset` of `bytes` and returns the accessor. */
  wrap(bytes: Uint8Array, offset = 0): Frame {
    if (this.bb.bytes() !== bytes) this.bb = new flatbuffers.ByteBuffer(bytes);
    this.bb.setPosition(offset + SIZE_PREFIX_LENGTH);
    return Frame.getRootAsFrame(this.bb, this.frame);
  }
}

/** Little-endian reads without bounds checks (the verifier checks bounds before it calls them). */
export function readU16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function readI32(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

export function readU32(b: Uint8Array, o: number): number {
  return readI32(b, o) >>> 0;
}

/**
 * Writes the sequencer's seq and ts_recv into an encoded frame in place, and sets ts_event to ts_recv
 * when the source left it 0 (unset). The encoder forces every field present, so the slots exist; frames
 * from publishers are stamped only once the verifier (src/frame/verify.ts) found the three slots, each
 * its own 8 bytes. `bytes` and `view` must cover the same memory from the same start.
 */
export function stampFrame(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  seq: number,
  tsRecv: bigint,
): void {
  const table = tablePos(bytes, offset);
  const seqPos = fieldPos(bytes, table, VT_SEQ);
  const tsRecvPos = fieldPos(bytes, table, VT_TS_RECV);
  const tsEventPos = fieldPos(bytes, table, VT_TS_EVENT);
  if (seqPos === 0 || tsRecvPos === 0 || tsEventPos === 0) {
    throw new TickringError(
      "BAD_FRAME",
      `frame at ${offset} lacks seq/ts slots: encode it with FrameEncoder`,
    );
  }
  view.setUint32(seqPos, seq >>> 0, true);
  view.setUint32(seqPos + 4, Math.floor(seq / 0x1_0000_0000), true);
  view.setBigInt64(tsRecvPos, tsRecv, true);
  if (view.getBigInt64(tsEventPos, true) === 0n) view.setBigInt64(tsEventPos, tsRecv, true);
}
