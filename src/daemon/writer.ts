/**
 * The single writer's ingest paths, on the main thread: frames encoded by the socket workers and ticks from
 * this process (the embedding API, the demo feed) are sequenced, written to the WAL and published to the
 * ring; their acks wait in the {@link AckQueue} until the WAL says they are durable.
 *
 * A WAL failure (a failed write or fdatasync: a full disk, an I/O error) never escapes as an uncaught
 * exception: what was waiting for durability is answered with the error, and so is every later message,
 * with `DISK_FULL` for a full disk and `IO_ERROR` otherwise.
 */
import { errnoOf, TickringError } from "../errors.js";
import type { Tick } from "../frame/codec.js";
import type { Logger } from "../logger.js";
import type { Sequencer } from "../publisher/sequencer.js";
import type { Wal } from "../storage/index.js";
import { STATUS_DURABLE_SEQ, STATUS_WRITTEN_SEQ } from "../threads/shared-state.js";
import { type AckQueue } from "./ack-queue.js";

export class Writer {
  /** Ticks sequenced since start. */
  ticks = 0;
  private failure: TickringError | undefined;

  constructor(
    private readonly sequencer: Sequencer,
    private readonly wal: Wal,
    private readonly acks: AckQueue,
    private readonly shared: Float64Array,
    private readonly log: Logger,
  ) {
    wal.onDurable((seq) => {
      shared[STATUS_DURABLE_SEQ] = seq;
      acks.durable(seq);
    });
  }

  /** Why the writer refuses ingest, if it does. */
  get failed(): TickringError | undefined {
    return this.failure;
  }

  /** Sequences one worker's message (frames encoded at the edge); its ack or error goes back to `conn`. */
  sequenceEncoded(worker: number, conn: number, frames: ArrayBuffer, count: number): void {
    const seq = this.guard(() => this.sequencer.appendEncoded(new Uint8Array(frames), count), count);
    if (seq === undefined) {
      this.acks.add(worker, conn, Number.MAX_SAFE_INTEGER);
      this.acks.failAll(this.failure);
      return;
    }
    this.acks.add(worker, conn, seq);
    if (seq <= this.wal.durableSeq) this.acks.durable(this.wal.durableSeq);
  }

  /** Sequences ticks from this process; resolves with the last seq once it is durable. */
  sequenceTicks(ticks: readonly Tick[]): Promise<number> {
    const seq = this.guard(() => this.sequencer.appendTicks(ticks), ticks.length);
    if (seq === undefined) return Promise.reject(this.failure);
    if (seq <= this.wal.durableSeq) return Promise.resolve(seq);
    return this.acks.wait(seq);
  }

  /**
   * Runs an append and commits it; on a WAL failure records why, answers everything waiting with it, and
   * returns undefined.
   */
  private guard(append: () => number, count: number): number | undefined {
    if (this.failure !== undefined) return undefined;
    try {
      const seq = append();
      this.sequencer.commit();
      this.shared[STATUS_WRITTEN_SEQ] = this.wal.writtenSeq;
      this.ticks += count;
      return seq;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /** The WAL failed: from now on every message is answered with the error. */
  fail(err: unknown): void {
    if (this.failure !== undefined) return;
    const code = errnoOf(err) === "ENOSPC" ? "DISK_FULL" : "IO_ERROR";
    this.failure = new TickringError(code, `the WAL refused a write: ${(err as Error).message}`, {
      cause: err,
    });
    this.log.error({ err }, "WAL failed: ingest is refused from now on");
    this.acks.failAll(this.failure);
  }
}
