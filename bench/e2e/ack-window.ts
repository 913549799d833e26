/**
 * The flow control of a windowed publisher: sends units (a batch, a message) while fewer than
 * `inFlight` are unacked and `more()` says so, one more each time an ack frees a slot; acks come back
 * in send order. Records each unit's send → ack latency.
 */
import { build } from "hdr-histogram-js";

export interface AckWindowRun {
  /** Units acked. */
  units: number;
  /** From the first send to the last ack. */
  seconds: number;
  /** Send → ack, µs. */
  ackLatencyUs: { p50: number; p99: number; p999: number };
}

export class AckWindow {
  private readonly histogram = build({
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 6e10,
  });
  /** Send time (hrtime ns) of each unit in flight, a ring indexed by unit number. */
  private readonly sentAt: Float64Array;
  private sent = 0;
  private acked = 0;
  private stopped = false;
  private failed: Error | null = null;
  private done: () => void = () => {};

  /**
   * @param send sends unit `n` (0, 1, …), stamped `now`
   * @param more whether to send unit `n` (false once: nothing more is sent)
   */
  constructor(
    private readonly inFlight: number,
    private readonly send: (n: number, now: bigint) => void,
    private readonly more: (n: number) => boolean,
  ) {
    this.sentAt = new Float64Array(inFlight);
  }

  /** Sends until `more()` is false and every unit sent is acked; rejects after {@link fail}. */
  async run(): Promise<AckWindowRun> {
    const finished = new Promise<void>((resolve) => (this.done = resolve));
    const t0 = performance.now();
    this.fill();
    await finished;
    const seconds = (performance.now() - t0) / 1000;
    if (this.failed !== null) throw this.failed;
    const h = this.histogram;
    const us = (p: number) => (h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p) / 10) / 100);
    return { units: this.acked, seconds, ackLatencyUs: { p50: us(50), p99: us(99), p999: us(99.9) } };
  }

  /** The oldest unit in flight was acked. */
  ack(): void {
    const now = Number(process.hrtime.bigint());
    this.histogram.recordValue(Math.max(1, now - this.sentAt[this.acked % this.inFlight]));
    this.acked++;
    this.fill();
  }

  /** The server refused a unit: stop, and make {@link run} reject with `err`. */
  fail(err: Error): void {
    this.failed ??= err;
    this.stopped = true;
    this.done();
  }

  private fill(): void {
    const now = process.hrtime.bigint();
    while (this.sent - this.acked < this.inFlight && !this.stopped) {
      if (!this.more(this.sent)) {
        this.stopped = true;
        break;
      }
      this.send(this.sent, now);
      this.sentAt[this.sent % this.inFlight] = Number(now);
      this.sent++;
    }
    if (this.stopped && this.acked === this.sent) this.done();
  }
}
