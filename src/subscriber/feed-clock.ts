/**
 * The clock and timer the paced feeds run on — paced replays (`speed`) and the delayed feed — so their
 * release times are decided by one seam that tests drive by hand, instead of being measured across
 * processes.
 */
import { nowNs } from "../clock.js";

export interface FeedClock {
  /** Nanoseconds since the Unix epoch, on the sequencer's clock (see clock.ts), as a number. */
  nowNs(): number;
  /** Calls `fn` once, `ms` from now; returns a handle for {@link cancel}. */
  after(ms: number, fn: () => void): unknown;
  cancel(handle: unknown): void;
}

/** The real clock and Node's timers. */
export const systemClock: FeedClock = {
  nowNs: () => Number(nowNs()),
  after: (ms, fn) => setTimeout(fn, ms),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};
