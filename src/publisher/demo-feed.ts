/**
 * The synthetic market of `--demo`: random-walk mid prices per symbol, quotes with a spread of a few
 * ticks, trades at the touch, an occasional book update (5 levels a side) and no external input. It goes
 * through the same sequencer path as real ingest. Deterministic for a given seed, so tests can use it.
 */
import type { BookLevel, Tick } from "../frame/codec.js";

export interface DemoFeedOptions {
  symbols: number;
  /** Ticks per second over all symbols. */
  rate: number;
  /** @default 1 */
  seed?: number;
}

/** Timer period; each wake emits the ticks that fell due since the previous one. */
const PERIOD_MS = 5;

/** Demo symbols: a few familiar tickers, then SYM0051, SYM0052, … */
const NAMES = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "AVGO", "JPM", "V"];

export class DemoFeed {
  private readonly symbols: string[];
  private readonly mid: Float64Array;
  private readonly tickSize: Float64Array;
  private rng: number;
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private emitted = 0;
  private tradeId = 0n;

  constructor(
    private readonly options: DemoFeedOptions,
    private readonly sink: (ticks: Tick[]) => void,
  ) {
    this.rng = options.seed ?? 1;
    this.symbols = Array.from({ length: options.symbols }, (_, i) =>
      i < NAMES.length ? NAMES[i] : `SYM${String(i + 1).padStart(4, "0")}`,
    );
    this.mid = new Float64Array(options.symbols);
    this.tickSize = new Float64Array(options.symbols);
    for (let i = 0; i < options.symbols; i++) {
      this.mid[i] = 20 + this.random() * 480;
      this.tickSize[i] = 0.01;
    }
  }

  start(): void {
    this.started = performance.now();
    this.emitted = 0;
    this.timer = setInterval(() => this.emitDue(), PERIOD_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The next `n` ticks of the market (also used directly by benchmarks and tests). */
  next(n: number): Tick[] {
    const out: Tick[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = Math.floor(this.random() * this.symbols.length);
      const tick = this.tickSize[i];
      // Random walk of the mid in whole ticks, never below 10 ticks.
      this.mid[i] = Math.max(10 * tick, this.mid[i] + Math.round((this.random() - 0.5) * 4) * tick);
      const half = tick * (1 + Math.floor(this.random() * 3));
      const bid = round(this.mid[i] - half);
      const ask = round(this.mid[i] + half);
      const symbol = this.symbols[i];
      const r = this.random();
      if (r < 0.6) {
        out[k] = {
          type: "quote",
          symbol,
          bidPrice: bid,
          bidSize: lot(this.random()),
          askPrice: ask,
          askSize: lot(this.random()),
        };
      } else if (r < 0.97) {
        const buy = this.random() < 0.5;
        out[k] = {
          type: "trade",
          symbol,
          price: buy ? ask : bid,
          size: lot(this.random()),
          aggressor: buy ? "buy" : "sell",
          tradeId: ++this.tradeId,
        };
      } else {
        out[k] = {
          type: "book",
          symbol,
          snapshot: true,
          bids: this.levels(bid, -tick),
          asks: this.levels(ask, tick),
        };
      }
    }
    return out;
  }

  private emitDue(): void {
    const due = Math.floor(((performance.now() - this.started) / 1000) * this.options.rate) - this.emitted;
    if (due <= 0) return;
    // Bound a catch-up after a stall (a paused process) to one second of ticks.
    const n = Math.min(due, this.options.rate);
    this.emitted += due;
    this.sink(this.next(n));
  }

  private levels(top: number, step: number): BookLevel[] {
    const out: BookLevel[] = [];
    for (let j = 0; j < 5; j++)
      out.push({
        price: round(top + j * step),
        size: lot(this.random()),
        count: 1 + Math.floor(this.random() * 20),
      });
    return out;
  }

  /** xorshift32: fast, seedable, good enough for a synthetic market. */
  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 0x1_0000_0000;
  }
}

function round(p: number): number {
  return Math.round(p * 100) / 100;
}

/** Sizes in round lots of 100, skewed small. */
function lot(r: number): number {
  return 100 * (1 + Math.floor(r * r * 20));
}
