/**
 * The symbols history holds (`GET /v1/symbols`): for each, its first and last seq and ts_recv and its frames
 * by type. Built by each worker the first time it is asked, by reading history once, then kept current by
 * reading only what was written since (each request reads the new seqs); concurrent requests share one read.
 * Memory: one entry per symbol, at most {@link MAX_SYMBOLS} (then `truncated`).
 *
 * Retention may since have removed a symbol's first seqs: the table says what it read, when it read it.
 * Seqs history could not give (unreadable or lost: see HistoryReader) are counted, not tallied.
 */
import { Body, frameBodyType, frameSeq, frameTsRecvPos, readI32, readU32 } from "../frame/codec.js";
import { SymbolMap } from "../frame/symbol-map.js";
import type { HistorySources } from "./history.js";
import { scanRange } from "./seq-range.js";

/** Symbols tracked at most. */
export const MAX_SYMBOLS = 1_000_000;

/** What the table knows of one symbol. */
export interface SymbolStats {
  readonly symbol: string;
  firstSeq: number;
  lastSeq: number;
  /** ts_recv of the first and last frame: the 32-bit halves of the int64 (exact). */
  firstTsHi: number;
  firstTsLo: number;
  lastTsHi: number;
  lastTsLo: number;
  trades: number;
  quotes: number;
  books: number;
  bars: number;
}

export class SymbolTable {
  /** Symbols beyond {@link MAX_SYMBOLS} were seen and not tracked. */
  truncated = false;
  /** Seqs history could not give when they were read: their frames are in no count. */
  unreadSeqs = 0;
  private readonly map = new SymbolMap<SymbolStats>((symbol) => ({
    symbol,
    firstSeq: 0,
    lastSeq: 0,
    firstTsHi: 0,
    firstTsLo: 0,
    lastTsHi: 0,
    lastTsLo: 0,
    trades: 0,
    quotes: 0,
    books: 0,
    bars: 0,
  }));
  /** The highest seq read. */
  private scanned = 0;
  private reading: Promise<void> | undefined;

  constructor(private readonly history: HistorySources) {}

  /** The highest seq the table covers. */
  get asOfSeq(): number {
    return this.scanned;
  }

  /** Every symbol, in the order first seen. */
  symbols(): readonly SymbolStats[] {
    return this.map.values();
  }

  /** Reads history up to `newest` (what is new since the last call); concurrent calls share one read. */
  update(newest: number): Promise<void> {
    this.reading ??= this.read(newest).finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(newest: number): Promise<void> {
    if (newest <= this.scanned) return;
    let frames = 0;
    await scanRange(
      this.history,
      { fromSeq: this.scanned + 1, toSeq: newest, toTimeNs: Number.POSITIVE_INFINITY },
      (bytes, off) => {
        this.count(bytes, off);
        // A long first read lets the worker's loop run now and then.
        return ++frames % 65_536 === 0 ? new Promise((r) => setImmediate(() => r(true))) : true;
      },
      (from, to, reason) => {
        // Retired seqs are no one's: the table covers what history holds.
        if (reason !== "retired") this.unreadSeqs += to - from + 1;
      },
    );
    this.scanned = newest;
  }

  private count(bytes: Uint8Array, off: number): void {
    const s =
      this.map.find(bytes, off) ?? (this.map.size < MAX_SYMBOLS ? this.map.of(bytes, off) : undefined);
    if (s === undefined) {
      this.truncated = true;
      return;
    }
    const seq = frameSeq(bytes, off);
    const ts = frameTsRecvPos(bytes, off);
    s.lastSeq = seq;
    s.lastTsLo = readU32(bytes, ts);
    s.lastTsHi = readI32(bytes, ts + 4);
    if (s.firstSeq === 0) {
      s.firstSeq = seq;
      s.firstTsHi = s.lastTsHi;
      s.firstTsLo = s.lastTsLo;
    }
    switch (frameBodyType(bytes, off)) {
      case Body.Trade:
        s.trades++;
        break;
      case Body.Quote:
        s.quotes++;
        break;
      case Body.BookUpdate:
        s.books++;
        break;
      case Body.Bar:
        s.bars++;
        break;
    }
  }
}

/** An int64 of ns since the epoch, given in halves, as an ISO-8601 time (ms). */
export function isoTime(hi: number, lo: number): string {
  return new Date(Number(((BigInt(hi) << 32n) | BigInt(lo)) / 1_000_000n)).toISOString();
}
