/**
 * Drives a {@link BarAggregator} in the bars thread: it is the fan-out of that thread's ring pump (every
 * sequenced frame, in seq order, with no gap: a lapped reader catches up from the WAL), and a timer hands
 * the bars that are due to `emit`, which sends them to the single writer to be sequenced like any tick —
 * the WAL, the ring, the store, replays and the delayed feed all carry them.
 */
import { nowNs } from "../../clock.js";
import type { ServeOptions } from "../../config/options.js";
import { type BarTick, frameLength } from "../../frame/codec.js";
import { BarAggregator, type BarStats } from "./bar-aggregator.js";

/** How often the timer looks for due bars: a bar leaves at most this long after its end + grace. */
const TICK_MS = 50;

/** The bar options of the daemon. */
export interface BarOptions {
  /** Bar intervals, ms (whole seconds), shortest first; none = no bars. */
  intervalsMs: readonly number[];
  /** How long after its end a bar waits for trades still on their way, ms. */
  graceMs: number;
}

/** The bar options of the daemon's options. */
export function barOptionsOf(o: ServeOptions): BarOptions {
  return { intervalsMs: o.barIntervalsMs, graceMs: o.barGraceMs };
}

export class BarEmitter {
  private readonly aggregator: BarAggregator;
  private timer: NodeJS.Timeout | undefined;
  /** True while this node may not sequence bars: see {@link BarAggregator.hold}. */
  private held = false;

  constructor(o: BarOptions) {
    this.aggregator = new BarAggregator(
      o.intervalsMs.map((ms) => ms * 1e6),
      o.graceMs * 1e6,
      Number(nowNs()),
    );
  }

  /** The bars' counters. */
  get stats(): BarStats {
    return this.aggregator.stats;
  }

  /** How far back (ns) history must be read at start so that no bar still open or correctable is missed. */
  get windowNs(): number {
    return this.aggregator.windowNs;
  }

  /** Looks at the whole frames of `bytes[start…end)`, in seq order. */
  dispatch(bytes: Uint8Array, start: number, end: number): void {
    for (let off = start; off < end; off += frameLength(bytes, off)) this.aggregator.observe(bytes, off);
  }

  /** Seqs retention removed before they were read: their trades are in no live bar (the store has them). */
  reportGap(): void {}

  /**
   * Holds the bars (true) while the writer refuses ingest — a follower, whose leader emits the bars; a full
   * disk — or hands them out again (false), late ones first.
   */
  hold(on: boolean): void {
    this.held = on;
  }

  /** Starts handing due bars to `emit`. */
  start(emit: (bars: BarTick[]) => void): void {
    this.timer ??= setInterval(() => {
      const now = Number(nowNs());
      if (this.held) {
        this.aggregator.hold(now);
        return;
      }
      if (now < this.aggregator.nextDueNs()) return;
      const bars = this.aggregator.collect(now);
      if (bars.length > 0) emit(bars);
    }, TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
