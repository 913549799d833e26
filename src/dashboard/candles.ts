/**
 * The candlestick chart's model for one symbol and interval: candles from three sources, the better one
 * winning for each bucket —
 *
 * 1. the bar the daemon sequenced (a live `bar` frame of the feed): final, except for a later revision;
 * 2. a row of `GET /v1/bars` (history): the bars before the page came, the newest one maybe still open;
 * 3. the page's own forming candle, from the trades it sees, for the bucket the daemon has not closed yet
 *    (a bar is only sequenced once its bucket ended, plus a grace: a 1 m candle would otherwise wait a minute).
 *
 * A trade already counted in the history (seq at or below the answer's last seq) is not counted again.
 * Changes are collected and handed to the chart together when it draws. No DOM.
 */
import { type FrameJson, nsToMs } from "./frames.js";

/** One candle; `time` is the bucket's start in seconds since the epoch (the chart's unit). */
export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A row of `GET /v1/bars?format=json`, or a bar frame of the feed: the fields used here. */
export type BarRow = Pick<
  FrameJson,
  "symbol" | "ts_event" | "interval_ns" | "open" | "high" | "low" | "close" | "volume" | "revision"
>;

const enum Source {
  Trades = 0,
  History = 1,
  Live = 2,
}

interface Slot {
  candle: Candle;
  source: Source;
  revision: number;
}

export class CandleSeries {
  private readonly slots = new Map<number, Slot>();
  /** Bucket starts, ascending. */
  private readonly times: number[] = [];
  /** Trades at or below this seq are in the history already. */
  private historySeq = 0;
  /** Candles changed since the last {@link takeChanges}; `all` when the chart should be redrawn whole. */
  private changed = new Set<number>();
  private all = false;

  constructor(
    readonly symbol: string,
    readonly intervalSec: number,
  ) {}

  /** The history: rows of `/v1/bars` for this symbol and interval, and the last seq the answer covered. */
  history(rows: readonly BarRow[], toSeq: number): void {
    this.historySeq = toSeq;
    for (const r of rows) this.put(r, Source.History);
    this.all = true;
  }

  /** A frame of the feed: a bar of this symbol and interval, or one of its trades. */
  onFrame(f: FrameJson): void {
    if (f.symbol !== this.symbol) return;
    if (f.type === "bar") {
      if (f.interval_ns === `${this.intervalSec}000000000`) this.put(f, Source.Live);
    } else if (f.type === "trade" && f.price !== undefined && f.seq > this.historySeq) {
      this.trade(f.price, f.size ?? 0, nsToMs(f.ts_event));
    }
  }

  /** The newest candle's time (NaN without any). */
  get newestTime(): number {
    return this.times.length === 0 ? NaN : this.times[this.times.length - 1];
  }

  /** Every candle, oldest first. */
  candles(): Candle[] {
    return this.times.map((t) => this.slots.get(t)!.candle);
  }

  /**
   * What changed since the last call: `all` (draw every candle again), or the candles changed, oldest first.
   */
  takeChanges(): { all: true } | { all: false; candles: Candle[] } {
    const all = this.all;
    const times = [...this.changed].sort((a, b) => a - b);
    this.all = false;
    this.changed.clear();
    if (all) return { all: true };
    return { all: false, candles: times.map((t) => this.slots.get(t)!.candle) };
  }

  private put(r: BarRow, source: Source): void {
    if (r.open === undefined || r.high === undefined || r.low === undefined || r.close === undefined) return;
    const time = Math.round(nsToMs(r.ts_event) / 1000) - this.intervalSec;
    const revision = r.revision ?? 0;
    const slot = this.slots.get(time);
    // A live bar beats history and trades, and a later revision beats an earlier one; never the reverse.
    if (slot !== undefined && (slot.source > source || (slot.source === source && slot.revision > revision)))
      return;
    const candle = { time, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume ?? 0 };
    this.set(time, { candle, source, revision });
  }

  private trade(price: number, size: number, tsMs: number): void {
    const time = Math.floor(tsMs / 1000 / this.intervalSec) * this.intervalSec;
    const slot = this.slots.get(time);
    if (slot === undefined) {
      // Only the newest bucket forms from trades: an older one without a candle is a late trade.
      if (this.times.length > 0 && time < this.times[this.times.length - 1]) return;
      const candle = { time, open: price, high: price, low: price, close: price, volume: size };
      this.set(time, { candle, source: Source.Trades, revision: 0 });
      return;
    }
    if (slot.source === Source.Live) return;
    const c = slot.candle;
    c.high = Math.max(c.high, price);
    c.low = Math.min(c.low, price);
    c.close = price;
    c.volume += size;
    this.changed.add(time);
  }

  private set(time: number, slot: Slot): void {
    if (!this.slots.has(time)) {
      let i = this.times.length;
      while (i > 0 && this.times[i - 1] > time) i--;
      this.times.splice(i, 0, time);
      // A candle before the newest one: the chart takes it only as a whole redraw.
      if (i < this.times.length - 1) this.all = true;
    }
    this.slots.set(time, slot);
    this.changed.add(time);
  }
}
