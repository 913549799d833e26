/**
 * The symbols table's model: per symbol the last trade price, its change since the page first saw the
 * symbol trade, the best bid and ask, and ticks per second — fed frame by frame from the real-time feed
 * (a map lookup and a few stores per frame: nothing is drawn per frame), rolled once a second, sorted and
 * filtered only when the table is drawn. No DOM.
 */
import type { FrameJson } from "./frames.js";

/** One symbol's row. */
export interface SymbolRow {
  symbol: string;
  /** Last trade price; null until the symbol trades. */
  last: number | null;
  /** The first trade price seen: the reference of `change`. */
  first: number | null;
  change: number | null;
  changePct: number | null;
  bid: number | null;
  ask: number | null;
  /** Frames of the symbol (trades, quotes, book updates) over the last second rolled. */
  ticksPerSec: number;
  /** Frames counted since the last roll. */
  counted: number;
}

/** Columns the table sorts by. */
export type SortKey = "symbol" | "last" | "change" | "changePct" | "ticksPerSec";

export class SymbolTable {
  private readonly rows = new Map<string, SymbolRow>();
  /** Frames at or below this seq (last values sent at subscription) set prices but are not counted. */
  private liveAfter = 0;
  private rolledAt: number | undefined;
  /** Bumped on every change: a view drawn at this version is still current. */
  version = 0;

  /** Frames with a seq above `seq` are live (the `subscribed` answer's seq); older ones are last values. */
  liveFrom(seq: number): void {
    this.liveAfter = seq;
  }

  /** Takes one frame of the feed. Bars are not ticks: they are ignored here. */
  onFrame(f: FrameJson): void {
    if (f.type === "bar") return;
    let row = this.rows.get(f.symbol);
    if (row === undefined) {
      row = {
        symbol: f.symbol,
        last: null,
        first: null,
        change: null,
        changePct: null,
        bid: null,
        ask: null,
        ticksPerSec: 0,
        counted: 0,
      };
      this.rows.set(f.symbol, row);
    }
    if (f.seq > this.liveAfter) row.counted++;
    if (f.type === "trade" && f.price !== undefined) {
      row.last = f.price;
      row.first ??= f.price;
      row.change = f.price - row.first;
      row.changePct = row.first === 0 ? null : (row.change / row.first) * 100;
    } else if (f.type === "quote") {
      row.bid = f.bid_price ?? row.bid;
      row.ask = f.ask_price ?? row.ask;
    }
    this.version++;
  }

  /** Turns the frames counted since the last roll into ticks per second (call about once a second). */
  roll(nowMs: number): void {
    const dt = this.rolledAt === undefined ? 0 : (nowMs - this.rolledAt) / 1000;
    this.rolledAt = nowMs;
    for (const row of this.rows.values()) {
      row.ticksPerSec = dt > 0 ? row.counted / dt : 0;
      row.counted = 0;
    }
    this.version++;
  }

  get size(): number {
    return this.rows.size;
  }

  /** A symbol's row, if it ticked. */
  get(symbol: string): SymbolRow | undefined {
    return this.rows.get(symbol);
  }

  /**
   * The rows whose symbol contains `filter` (any case), sorted by `key` (nulls last; ties by symbol).
   */
  view(key: SortKey, descending: boolean, filter = ""): SymbolRow[] {
    const f = filter.trim().toUpperCase();
    const rows: SymbolRow[] = [];
    for (const row of this.rows.values())
      if (f === "" || row.symbol.toUpperCase().includes(f)) rows.push(row);
    const dir = descending ? -1 : 1;
    const bySymbol = (a: SymbolRow, b: SymbolRow) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);
    if (key === "symbol") return rows.sort((a, b) => bySymbol(a, b) * dir);
    return rows.sort((a, b) => {
      const x = a[key];
      const y = b[key];
      if (x === y) return bySymbol(a, b);
      if (x === null) return 1;
      if (y === null) return -1;
      return (x - y) * dir;
    });
  }
}
