/** A {@link FeedClock} moved by hand: timers fire only inside {@link ManualClock.advance}. */
import type { FeedClock } from "../../src/subscriber/feed-clock.js";

export class ManualClock implements FeedClock {
  private timers: { at: number; fn: () => void }[] = [];

  constructor(private ns: number) {}

  nowNs(): number {
    return this.ns;
  }

  after(ms: number, fn: () => void): unknown {
    const t = { at: this.ns + ms * 1e6, fn };
    this.timers.push(t);
    return t;
  }

  cancel(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }

  /** Moves the clock `ms` forward, firing every timer that falls due, in time order. */
  advance(ms: number): void {
    const end = this.ns + ms * 1e6;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.ns = Math.max(this.ns, due.at);
      due.fn();
    }
    this.ns = end;
  }
}
