/**
 * The single writer's ingest paths, on the main thread: frames encoded by the socket workers (from their
 * ingest rings, answered in place: see ingest-pump.ts) and ticks from this process (the embedding API, the
 * demo feed) are sequenced, written to the WAL and published to the ring. A group of messages is committed
 * with one WAL write; acks follow the durable seq.
 *
 * When the WAL cannot write a group (a full disk: `DISK_FULL`; another write error: `IO_ERROR`), the group
 * is dropped whole — from the WAL, the ring, and its seqs taken back — its messages are answered with the
 * error, and ingest is refused with it until the disk has room again: the writer looks every
 * {@link PROBE_MS}, resumes by itself, and no acked tick is lost or seq reused. Feeds and history go on
 * being served meanwhile. A failed fdatasync is different: the kernel may have dropped the pages, so
 * nothing written since the last good sync can be called durable; the WAL stays failed until a restart.
 */
import { ERROR_CODES, type ErrorCode, TickringError } from "../errors.js";
import type { Tick } from "../frame/codec.js";
import type { Logger } from "../logger.js";
import type { Sequencer } from "../publisher/sequencer.js";
import { freeBytes, isDiskFull, type SpaceReserve, type Wal } from "../storage/index.js";
import {
  STATUS_DURABLE_SEQ,
  STATUS_INGEST_REFUSED,
  STATUS_WRITER_FAILED,
  STATUS_WRITTEN_SEQ,
} from "../threads/shared-state.js";
import type { AckQueue } from "./ack-queue.js";

/** How often a writer refusing ingest for a full disk looks for room again. */
const PROBE_MS = 1000;

/** What the writer is built from. */
export interface WriterOptions {
  sequencer: Sequencer;
  wal: Wal;
  walDir: string;
  /** Free bytes the WAL's disk needs before ingest resumes after a full disk (a segment, at least). */
  resumeFreeBytes: number;
  /** The data dir's reserve file: written again once ingest resumes. */
  reserve: SpaceReserve;
  local: AckQueue;
  shared: Float64Array;
  log: Logger;
}

export class Writer {
  /** Ticks sequenced since start. */
  ticks = 0;
  /** Why ingest is refused now, if it is. */
  private refusal: TickringError | undefined;
  /** True once the WAL failed for good (a failed fdatasync, or an undo that failed). */
  private broken = false;
  /** The group being built was dropped (a roll inside an append failed): its commit must fail too. */
  private groupLost: TickringError | undefined;
  private probe: NodeJS.Timeout | undefined;
  private readonly durableListeners: (() => void)[] = [];

  constructor(private readonly o: WriterOptions) {
    o.wal.onDurable((seq) => {
      o.shared[STATUS_DURABLE_SEQ] = seq;
      o.local.durable(seq);
      for (const l of this.durableListeners) l();
    });
    o.wal.onFailure((err) => this.breakDown(err));
  }

  /** Why the writer refuses ingest, if it does. */
  get failed(): TickringError | undefined {
    return this.refusal;
  }

  /** Calls `listener` after each advance of the durable seq, and when the writer fails (to tell workers). */
  onDurable(listener: () => void): void {
    this.durableListeners.push(listener);
  }

  /**
   * Starts refusing ingest because the disk was full at start (the daemon then serves read-only until it
   * has room).
   */
  startFull(): void {
    this.refuse(new TickringError("DISK_FULL", "the disk was full at start"));
  }

  /**
   * Sequences one message of frames encoded at the edge (stamped in place, wherever they lie: an ingest
   * ring's record): returns its last seq. They become visible with the next {@link commit}. Throws the
   * writer's refusal, BAD_FRAME when a frame would not take its seq, or the error that dropped the group.
   */
  sequenceEncoded(frames: Uint8Array, count: number): number {
    if (this.refusal !== undefined) throw this.refusal;
    try {
      const seq = this.o.sequencer.appendEncoded(frames, count);
      this.ticks += count;
      return seq;
    } catch (err) {
      throw this.lost(err);
    }
  }

  /** Writes what was sequenced since the last commit and publishes it; the error that dropped it, if any. */
  commit(): TickringError | undefined {
    if (this.groupLost !== undefined) {
      const lost = this.groupLost;
      this.groupLost = undefined;
      return lost;
    }
    if (this.refusal !== undefined) return this.refusal;
    try {
      this.o.sequencer.commit();
      this.o.shared[STATUS_WRITTEN_SEQ] = this.o.wal.writtenSeq;
      return undefined;
    } catch (err) {
      return this.writeFailed(err);
    }
  }

  /** Sequences ticks from this process; resolves with the last seq once it is durable. */
  sequenceTicks(ticks: readonly Tick[]): Promise<number> {
    if (this.refusal !== undefined) return Promise.reject(this.refusal);
    let seq: number;
    try {
      seq = this.o.sequencer.appendTicks(ticks);
      this.ticks += ticks.length;
    } catch (err) {
      this.lost(err);
    }
    const refused = this.commit();
    if (refused !== undefined) return Promise.reject(refused);
    if (seq! <= this.o.wal.durableSeq) return Promise.resolve(seq!);
    return this.o.local.wait(seq!);
  }

  /** An append failed: BAD_FRAME keeps the group; a WAL error dropped it (the sequencer took it back). */
  private lost(err: unknown): TickringError {
    if (err instanceof TickringError && err.code === "BAD_FRAME") return err;
    this.groupLost = this.writeFailed(err);
    return this.groupLost;
  }

  /** The WAL could not write a group (it dropped it): refuse ingest until the disk recovers. */
  private writeFailed(err: unknown): TickringError {
    if (this.broken) return this.refusal!;
    const code: ErrorCode = isDiskFull(err) ? "DISK_FULL" : "IO_ERROR";
    const refusal = new TickringError(code, `the WAL could not write: ${(err as Error).message}`, {
      cause: err,
    });
    this.o.log.error({ err }, "WAL write failed: ingest refused until the disk recovers");
    this.refuse(refusal);
    return refusal;
  }

  private refuse(refusal: TickringError): void {
    this.refusal = refusal;
    this.o.shared[STATUS_INGEST_REFUSED] = slotOf(refusal.code);
    this.probe ??= setInterval(() => this.probeRoom(), PROBE_MS);
    this.probe.unref();
  }

  /** Resumes ingest once the disk has room again (a disk that failed otherwise gets another try too). */
  private probeRoom(): void {
    if (this.broken || this.refusal === undefined) return;
    let free: number;
    try {
      free = freeBytes(this.o.walDir);
    } catch {
      return;
    }
    if (this.refusal.code === "DISK_FULL" && free < this.o.resumeFreeBytes) return;
    clearInterval(this.probe);
    this.probe = undefined;
    this.refusal = undefined;
    this.o.shared[STATUS_INGEST_REFUSED] = 0;
    this.o.log.info({ free }, "the WAL's disk has room again: accepting ingest");
    this.o.reserve.ensure().catch((err) => this.o.log.warn({ err }, "the reserve file could not be written"));
  }

  /** The WAL failed for good: every waiting call and every later message is answered with the error. */
  private breakDown(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    const code: ErrorCode = isDiskFull(err) ? "DISK_FULL" : "IO_ERROR";
    this.refusal = new TickringError(code, `the WAL failed: ${(err as Error).message}`, { cause: err });
    this.o.shared[STATUS_WRITER_FAILED] = slotOf(code);
    this.o.shared[STATUS_INGEST_REFUSED] = slotOf(code);
    clearInterval(this.probe);
    this.o.log.error({ err }, "WAL failed: ingest is refused until a restart");
    this.o.local.failAll(this.refusal);
    for (const l of this.durableListeners) l();
  }

  /** Stops looking for room. */
  stop(): void {
    clearInterval(this.probe);
  }
}

/** An error code in a shared slot: 1 + its index in ERROR_CODES. */
function slotOf(code: ErrorCode): number {
  return ERROR_CODES.indexOf(code) + 1;
}
