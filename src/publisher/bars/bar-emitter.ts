/**
 * Drives the {@link BarAggregator} on the single writer's thread: it sees every frame the sequencer writes
 * (through {@link BarEmitter.tap}, a ring sink that also hands each frame to the aggregator — after the WAL
 * accepted it, as the ring does), and a timer hands the bars that are due to `emit`, which sequences them
 * like any tick (WAL, ring, store, replays and the delayed feed all carry them).
 */
import { nowNs } from "../../clock.js";
import type { ServeOptions } from "../../config/options.js";
import type { BarTick } from "../../frame/codec.js";
import type { RingSink } from "../sequencer.js";
import { BarAggregator, type BarStats } from "./bar-aggregator.js";

/** How often the timer looks for due bars: a bar leaves at most this long after its end + grace. */
const TICK_MS = 50;

/** The bar options of the daemon. */
export interface BarOptions {
  /** Bar intervals, ms (whole seconds); none = no bars. */
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

  /** A ring sink that writes to `ring` and shows each frame to the aggregator. */
  tap(ring: RingSink): RingSink {
    const aggregator = this.aggregator;
    return {
      append(frame: Uint8Array): void {
        ring.append(frame);
        aggregator.observe(frame, 0);
      },
      publish(): void {
        ring.publish();
      },
    };
  }

  /** Starts handing due bars to `emit` (which sequences them). */
  start(emit: (bars: BarTick[]) => void): void {
    this.timer ??= setInterval(() => {
      const now = Number(nowNs());
      if (now < this.aggregator.nextDueNs()) return;
      const bars = this.aggregator.collect(now);
      if (bars.length > 0) emit(bars);
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
