/**
 * The single writer's ingest paths, on the main thread: frames encoded by the socket workers (from their
 * ingest rings, answered in place: see ingest-pump.ts) and ticks from this process (the embedding API, the
 * demo feed) are sequenced, written to the WAL and published to the ring. A group of messages is committed
 * with one WAL write; acks follow the durable seq.
 *
 * A WAL failure (a failed write or fdatasync: a full disk, an I/O error) never escapes as an uncaught
 * exception: what was waiting for durability is answered with the error, and so is every later message,
 * with `DISK_FULL` for a full disk and `IO_ERROR` otherwise.
 *
 * Under replication (src/replication) a follower appends its leader's frames as they are, seqs included
 * ({@link appendReplicated}), and refuses ingest ({@link refuseIngest}); a leader whose acks wait for the
 * stream holds them until {@link replicated} says the stream has the seqs too.
 */
import { ERROR_CODES, errnoOf, TickringError } from "../errors.js";
import type { Tick } from "../frame/codec.js";
import type { Logger } from "../logger.js";
import type { Sequencer } from "../publisher/sequencer.js";
import type { Wal } from "../storage/index.js";
import {
  STATUS_DURABLE_SEQ,
  STATUS_INGEST_REFUSED,
  STATUS_WRITER_FAILED,
  STATUS_WRITTEN_SEQ,
} from "../threads/shared-state.js";
import type { AckQueue } from "./ack-queue.js";

export class Writer {
  /** Ticks sequenced since start. */
  ticks = 0;
  private failure: TickringError | undefined;
  /** Why ingest is refused for now (a follower), if it is. */
  private refusal: TickringError | undefined;
  /** Acks wait for this seq too (`--ack-after replicated`): the highest the stream holds. */
  private replicatedSeq = Number.MAX_SAFE_INTEGER;
  private readonly durableListeners: (() => void)[] = [];

  constructor(
    private readonly sequencer: Sequencer,
    private readonly wal: Wal,
    private readonly local: AckQueue,
    private readonly shared: Float64Array,
    private readonly log: Logger,
  ) {
    wal.onDurable((seq) => {
      shared[STATUS_DURABLE_SEQ] = seq;
      local.durable(Math.min(seq, this.replicatedSeq));
      for (const l of this.durableListeners) l();
    });
  }

  /** Why the writer refuses ingest, if it does. */
  get failed(): TickringError | undefined {
    return this.failure;
  }

  /** Calls `listener` after each advance of the durable (or replicated) seq, to tell the workers. */
  onDurable(listener: () => void): void {
    this.durableListeners.push(listener);
  }

  /**
   * Sequences one message of frames encoded at the edge (stamped in place, wherever they lie: an ingest
   * ring's record): returns its last seq. They become visible with the next {@link commit}. Throws the
   * writer's failure when it refuses ingest, or BAD_FRAME when a frame would not take its seq.
   */
  sequenceEncoded(frames: Uint8Array, count: number): number {
    if (this.failure !== undefined) throw this.failure;
    if (this.refusal !== undefined) throw this.refusal;
    const seq = this.sequencer.appendEncoded(frames, count);
    this.ticks += count;
    return seq;
  }

  /** Writes what was sequenced since the last commit and publishes it; the error that refused it, if any. */
  commit(): TickringError | undefined {
    if (this.failure !== undefined) return this.failure;
    try {
      this.sequencer.commit();
      this.shared[STATUS_WRITTEN_SEQ] = this.wal.writtenSeq;
      return undefined;
    } catch (err) {
      this.fail(err);
      return this.failure;
    }
  }

  /** Sequences ticks from this process; resolves with the last seq once it is durable. */
  sequenceTicks(ticks: readonly Tick[]): Promise<number> {
    let seq: number;
    try {
      seq = this.sequenceEncodedTicks(ticks);
    } catch (err) {
      return Promise.reject(err);
    }
    const refused = this.commit();
    if (refused !== undefined) return Promise.reject(refused);
    if (seq <= Math.min(this.wal.durableSeq, this.replicatedSeq)) return Promise.resolve(seq);
    return this.local.wait(seq);
  }

  /**
   * Appends frames that carry their seqs already, `firstSeq` on (a follower copying its leader's log); they
   * become visible with the next {@link commit}. Throws the writer's failure, or the WAL's refusal of a seq
   * that does not follow its last.
   */
  appendReplicated(frames: Uint8Array, count: number, firstSeq: number): number {
    if (this.failure !== undefined) throw this.failure;
    const seq = this.sequencer.appendStamped(frames, count, firstSeq);
    this.ticks += count;
    return seq;
  }

  /**
   * Refuses ingest with `err` from now on (a follower answers `READ_ONLY` naming its leader), or accepts it
   * again with undefined. The WAL's own failure, once there, is never lifted.
   */
  refuseIngest(err: TickringError | undefined): void {
    this.refusal = err;
    if (this.failure === undefined) {
      this.shared[STATUS_INGEST_REFUSED] = err === undefined ? 0 : ERROR_CODES.indexOf(err.code) + 1;
    }
  }

  /** The stream holds every seq up to `seq`: acks held for it (`--ack-after replicated`) go out. */
  replicated(seq: number): void {
    this.replicatedSeq = seq;
    this.local.durable(Math.min(this.wal.durableSeq, seq));
    for (const l of this.durableListeners) l();
  }

  private sequenceEncodedTicks(ticks: readonly Tick[]): number {
    if (this.failure !== undefined) throw this.failure;
    if (this.refusal !== undefined) throw this.refusal;
    const seq = this.sequencer.appendTicks(ticks);
    this.ticks += ticks.length;
    return seq;
  }

  /** The WAL failed: from now on every message is answered with the error. */
  fail(err: unknown): void {
    if (this.failure !== undefined) return;
    const code = errnoOf(err) === "ENOSPC" ? "DISK_FULL" : "IO_ERROR";
    this.failure = new TickringError(code, `the WAL refused a write: ${(err as Error).message}`, {
      cause: err,
    });
    const slot = ERROR_CODES.indexOf(code) + 1;
    this.shared[STATUS_WRITER_FAILED] = slot;
    this.shared[STATUS_INGEST_REFUSED] = slot;
    this.log.error({ err }, "WAL failed: ingest is refused from now on");
    this.local.failAll(this.failure);
    for (const l of this.durableListeners) l();
  }
}
