/**
 * Runs a worker's historical replays in turns. Each replay, when it has something to do, is queued; the
 * scheduler takes them round-robin, one step each (one read of history, or one message sent), and gives
 * the event loop back once a turn has used {@link SLICE_MS} — whatever the number of replays. Before it,
 * each replay ran for 2 ms before yielding, so R replays made one event-loop turn last R × 2 ms and starved
 * live fan-out, ingest and pings on their worker (bench/soak: a ping's round trip reached 272 ms with 128
 * replays on one worker). The HTTP history answers of the worker take their turns here too (http-stream.ts).
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";

/** Replay work the scheduler runs: one step at a time. */
export interface Steppable {
  /** Set while queued (a replay is queued at most once). */
  queued: boolean;
  /** Does one step; resolves true when it could do another at once, false when it waits for something. */
  step(): Promise<boolean>;
  /** A step threw: the replay ends and says why. */
  fail(err: unknown): void;
}

/** Time one turn of replay work may take before the event loop gets a turn, ms. */
const SLICE_MS = 2;

export class ReplayScheduler {
  /**
   * Replays and HTTP history answers running in the worker (each holds a read buffer and a file), against
   * `--max-replays-per-worker`: kept by those that start and end them.
   */
  held = 0;
  private queue: Steppable[] = [];
  private head = 0;
  private running = false;

  /** Queues `r` for a step (nothing if it is queued already). */
  wake(r: Steppable): void {
    if (r.queued) return;
    r.queued = true;
    this.queue.push(r);
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      let sliceStart = performance.now();
      while (this.head < this.queue.length) {
        if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
        const r = this.queue[this.head++];
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        r.queued = false;
        let more = false;
        try {
          more = await r.step();
        } catch (err) {
          r.fail(err);
        }
        if (more) this.wake(r);
      }
      this.queue.length = 0;
      this.head = 0;
    } finally {
      this.running = false;
    }
  }
}
