/**
 * Renders frames as JSON text straight into a byte buffer, for `format:"json"` feeds: the same objects as
 * {@link frameToObject} (`seq` a number, nanosecond times and 64-bit ids as decimal strings), without
 * building them. Field names are pre-encoded bytes, integers are written digit by digit, 64-bit values are
 * converted without BigInt, and a symbol's JSON string is kept per symbol. What is left per frame is one
 * short string per double (`String(price)`: the shortest round-trip form JSON needs), copied out as ASCII.
 * bench/e2e and bench/peers measure the JSON paths.
 *
 * One renderer per thread; not reentrant.
 */
import {
  Bar,
  Body,
  BookUpdate,
  FrameView,
  frameInstrumentId,
  frameSeq,
  frameSymbolKey,
  frameSymbolSpan,
  frameTsEventPos,
  frameTsRecvPos,
  type Level,
  Quote,
  Side,
  Trade,
} from "./codec.js";

const enc = new TextEncoder();
const bytesOf = (s: string) => enc.encode(s);

const K_SEQ = bytesOf('{"seq":');
const K_SYMBOL = bytesOf(',"symbol":');
const K_INSTRUMENT = bytesOf(',"instrument_id":');
const K_TS_EVENT = bytesOf(',"ts_event":"');
const K_TS_RECV = bytesOf('","ts_recv":"');
const T_TRADE = bytesOf('","type":"trade","price":');
const T_QUOTE = bytesOf('","type":"quote","bid_price":');
const T_BOOK = bytesOf('","type":"book","snapshot":');
const T_BAR = bytesOf('","type":"bar","interval_ns":"');
const K_SIZE = bytesOf(',"size":');
const K_AGGRESSOR = bytesOf(',"aggressor":');
const K_TRADE_ID = bytesOf(',"trade_id":"');
const K_BID_SIZE = bytesOf(',"bid_size":');
const K_ASK_PRICE = bytesOf(',"ask_price":');
const K_ASK_SIZE = bytesOf(',"ask_size":');
const K_BIDS = bytesOf(',"bids":[');
const K_ASKS = bytesOf('],"asks":[');
const K_LEVEL_PRICE = bytesOf('{"price":');
const K_COUNT = bytesOf(',"count":');
const K_OPEN = bytesOf('","open":');
const K_HIGH = bytesOf(',"high":');
const K_LOW = bytesOf(',"low":');
const K_CLOSE = bytesOf(',"close":');
const K_VOLUME = bytesOf(',"volume":');
const K_TRADES = bytesOf(',"trades":');
const K_VWAP = bytesOf(',"vwap":');
const K_REVISION = bytesOf(',"revision":');
const V_BUY = bytesOf('"buy"');
const V_SELL = bytesOf('"sell"');
const V_NULL = bytesOf("null");
const V_TRUE = bytesOf("true");
const V_FALSE = bytesOf("false");
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Bytes the JSON of a frame of `frameLength` bytes may take at most: what a caller keeps free before
 * {@link JsonRenderer.render}. The fields around the body fit in 1 KiB (a 64-byte symbol escaped, 19-digit
 * times, 24-character doubles); a book level (24 bytes of frame) renders to at most 86.
 */
export function maxJsonBytes(frameLength: number): number {
  return 1024 + 4 * frameLength;
}
/** Symbols whose JSON string is kept; past it the table starts again (a publisher inventing symbols). */
const SYMBOL_CACHE_LIMIT = 65536;

interface CachedSymbol {
  bytes: Uint8Array;
  /** The symbol as a JSON string literal, quotes included, UTF-8. */
  json: Uint8Array;
}

export class JsonRenderer {
  private readonly view = new FrameView();
  private readonly trade = new Trade();
  private readonly quote = new Quote();
  private readonly book = new BookUpdate();
  private readonly bar = new Bar();
  private readonly symbols = new Map<number, CachedSymbol[]>();
  private symbolCount = 0;
  private readonly span = new Int32Array(2);
  private out: Uint8Array = new Uint8Array(0);
  /**
   * The last value converted per field (ts_event, ts_recv, other), with its digits: the frames of one
   * ingest message share one ts_recv, and often one ts_event.
   */
  private readonly last = [0, 1, 2].map(() => ({ hi: -1, lo: -1, digits: "" }));

  /**
   * Writes the JSON object of the frame at `bytes[off]` into `out` at `at` and returns the position after
   * it. `out` must have {@link maxJsonBytes} free from `at`.
   */
  render(bytes: Uint8Array, off: number, out: Uint8Array, at: number): number {
    this.out = out;
    let p = this.put(K_SEQ, at);
    p = this.ascii(String(frameSeq(bytes, off)), p);
    p = this.put(K_SYMBOL, p);
    p = this.put(this.symbolJson(bytes, off), p);
    p = this.put(K_INSTRUMENT, p);
    p = this.ascii(String(frameInstrumentId(bytes, off)), p);
    p = this.put(K_TS_EVENT, p);
    p = this.i64At(bytes, frameTsEventPos(bytes, off), p, 0);
    p = this.put(K_TS_RECV, p);
    p = this.i64At(bytes, frameTsRecvPos(bytes, off), p, 1);
    const f = this.view.wrap(bytes, off);
    switch (f.bodyType()) {
      case Body.Trade: {
        const t = f.body(this.trade) as Trade;
        p = this.put(T_TRADE, p);
        p = this.num(t.price(), p);
        p = this.put(K_SIZE, p);
        p = this.num(t.size(), p);
        p = this.put(K_AGGRESSOR, p);
        const side = t.aggressor();
        p = this.put(side === Side.Buy ? V_BUY : side === Side.Sell ? V_SELL : V_NULL, p);
        p = this.put(K_TRADE_ID, p);
        p = this.u64Field(bytes, t.bb!.__offset(t.bb_pos, 10), t.bb_pos, p);
        out[p++] = QUOTE;
        break;
      }
      case Body.Quote: {
        const q = f.body(this.quote) as Quote;
        p = this.put(T_QUOTE, p);
        p = this.num(q.bidPrice(), p);
        p = this.put(K_BID_SIZE, p);
        p = this.num(q.bidSize(), p);
        p = this.put(K_ASK_PRICE, p);
        p = this.num(q.askPrice(), p);
        p = this.put(K_ASK_SIZE, p);
        p = this.num(q.askSize(), p);
        break;
      }
      case Body.BookUpdate: {
        const b = f.body(this.book) as BookUpdate;
        p = this.put(T_BOOK, p);
        p = this.put(b.snapshot() ? V_TRUE : V_FALSE, p);
        p = this.put(K_BIDS, p);
        p = this.levelsOf(b, true, p);
        p = this.put(K_ASKS, p);
        p = this.levelsOf(b, false, p);
        out[p++] = 0x5d; // ]
        break;
      }
      case Body.Bar: {
        const b = f.body(this.bar) as Bar;
        p = this.put(T_BAR, p);
        p = this.u64Field(bytes, b.bb!.__offset(b.bb_pos, 4), b.bb_pos, p);
        p = this.put(K_OPEN, p);
        p = this.num(b.open(), p);
        p = this.put(K_HIGH, p);
        p = this.num(b.high(), p);
        p = this.put(K_LOW, p);
        p = this.num(b.low(), p);
        p = this.put(K_CLOSE, p);
        p = this.num(b.close(), p);
        p = this.put(K_VOLUME, p);
        p = this.num(b.volume(), p);
        p = this.put(K_TRADES, p);
        p = this.ascii(String(b.trades()), p);
        p = this.put(K_VWAP, p);
        p = this.num(b.vwap(), p);
        p = this.put(K_REVISION, p);
        p = this.ascii(String(b.revision()), p);
        break;
      }
      default:
        throw new TypeError(
          `frame ${frameSeq(bytes, off)} has no body the feeds carry (type ${f.bodyType()})`,
        );
    }
    out[p++] = 0x7d; // }
    return p;
  }

  private levelsOf(b: BookUpdate, bids: boolean, p: number): number {
    const n = bids ? b.bidsLength() : b.asksLength();
    let level: Level | null;
    for (let i = 0; i < n; i++) {
      level = bids ? b.bids(i) : b.asks(i);
      if (i > 0) this.out[p++] = 0x2c; // ,
      p = this.put(K_LEVEL_PRICE, p);
      p = this.num(level!.price(), p);
      p = this.put(K_SIZE, p);
      p = this.num(level!.size(), p);
      p = this.put(K_COUNT, p);
      p = this.ascii(String(level!.count()), p);
      this.out[p++] = 0x7d; // }
    }
    return p;
  }

  /** The frame's symbol as a JSON string literal, from the cache when this symbol was seen before. */
  private symbolJson(bytes: Uint8Array, off: number): Uint8Array {
    const key = frameSymbolKey(bytes, off);
    frameSymbolSpan(bytes, off, this.span);
    const at = this.span[0];
    const len = this.span[1];
    const list = this.symbols.get(key);
    if (list !== undefined) {
      for (const c of list) {
        if (c.bytes.length !== len) continue;
        let i = 0;
        while (i < len && c.bytes[i] === bytes[at + i]) i++;
        if (i === len) return c.json;
      }
    }
    if (this.symbolCount >= SYMBOL_CACHE_LIMIT) {
      this.symbols.clear();
      this.symbolCount = 0;
    }
    const raw = bytes.slice(at, at + len);
    // Symbols are printable UTF-8 (the ingest edge refuses control characters): only " and \ need escaping.
    const json: number[] = [QUOTE];
    for (const b of raw) {
      if (b === QUOTE || b === BACKSLASH) json.push(BACKSLASH);
      json.push(b);
    }
    json.push(QUOTE);
    const entry = { bytes: raw, json: Uint8Array.from(json) };
    if (list === undefined) this.symbols.set(key, [entry]);
    else list.push(entry);
    this.symbolCount++;
    return entry.json;
  }

  /** Copies `src` (a field name, a symbol: a few bytes) byte by byte: `set` costs a native call each. */
  private put(src: Uint8Array, p: number): number {
    const out = this.out;
    for (let i = 0; i < src.length; i++) out[p++] = src[i];
    return p;
  }

  private ascii(s: string, p: number): number {
    const out = this.out;
    for (let i = 0; i < s.length; i++) out[p++] = s.charCodeAt(i);
    return p;
  }

  /** A finite double as JSON writes it (the verifier refuses non-finite ones). */
  private num(x: number, p: number): number {
    return this.ascii(String(x), p);
  }

  /** The int64 at `pos` (a nanosecond time; never negative here), or 0 when absent; `slot` picks its cache. */
  private i64At(bytes: Uint8Array, pos: number, p: number, slot: number): number {
    if (pos === 0) {
      this.out[p] = 0x30;
      return p + 1;
    }
    return this.u64Words(readU32(bytes, pos + 4), readU32(bytes, pos), p, slot);
  }

  /** A ulong field at table-relative `rel` of the table at `table` (0 when absent). */
  private u64Field(bytes: Uint8Array, rel: number, table: number, p: number): number {
    return this.i64At(bytes, rel === 0 ? 0 : table + rel, p, 2);
  }

  /**
   * hi·2^32 + lo in decimal. Above 2^53 through a BigInt: twice as fast as long division over 16-bit limbs
   * in doubles, which this was (bench/http: history, where every frame has its own times).
   */
  private u64Words(hi: number, lo: number, p: number, slot: number): number {
    const last = this.last[slot];
    if (hi === last.hi && lo === last.lo) return this.ascii(last.digits, p);
    // ts_recv is often the ts_event just written (a tick sent without one).
    const other = this.last[slot === 1 ? 0 : 1];
    if (hi === other.hi && lo === other.lo) {
      last.hi = hi;
      last.lo = lo;
      last.digits = other.digits;
      return this.ascii(last.digits, p);
    }
    const digits =
      hi < 0x200000 ? String(hi * 0x1_0000_0000 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
    last.hi = hi;
    last.lo = lo;
    // Kept as text and copied out as ASCII: TextEncoder.encode per new value was most of a frame's
    // rendering when every frame has its own time (bench/http, history: 160K → see bench/README.md).
    last.digits = digits;
    return this.ascii(digits, p);
  }
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
