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
 *
 * Under replication (src/replication) a follower appends its leader's frames as they are, seqs included
 * ({@link Writer.appendReplicated}), and its role refuses ingest ({@link Writer.refuseIngest}: READ_ONLY
 * naming the leader); a leader whose acks wait for the stream holds them until {@link Writer.replicated}
 * says the stream has the seqs too.
 *
 * Why ingest is refused is ONE state with a code, whatever refuses it: the WAL's permanent failure, a failed
 * write (until the disk has room), or the node's role — in that order when several hold, so an operator and
 * a publisher see the most severe. It is in shared state (`/healthz`) and told to {@link Writer.onRefusal}
 * listeners (the workers' words for publishers; the replication node, which stops following on a failed
 * write and resumes when it clears, and steps down as leader when the WAL fails).
 */
import { ERROR_CODES, type ErrorCode, TickringError } from "../errors.js";
import type { Tick } from "../frame/codec.js";
import type { Logger } from "../logger.js";
import type { Sequencer } from "../publisher/sequencer.js";
import { freeBytes, isDiskFull, type SpaceReserve, type Wal, WalSeqError } from "../storage/index.js";
import {
  STATUS_DURABLE_SEQ,
  STATUS_INGEST_REFUSED,
  STATUS_WRITER_FAILED,
  STATUS_WRITTEN_SEQ,
} from "../threads/shared-state.js";
import type { AckQueue } from "./ack-queue.js";

/** How often a writer refusing ingest for a full disk looks for room again. */
const PROBE_MS = 1000;

/**
 * What refuses ingest: the WAL failed for good, a write failed (a full disk, until it has room), or the
 * node's role in a replication group (a follower; a leader not yet, or no longer, sure of its lease).
 */
export type RefusalCause = "wal" | "disk" | "role";
/** Told every change of why ingest is refused: the error publishers get and its cause (undefined: taken). */
export type RefusalListener = (refusal: TickringError | undefined, cause: RefusalCause | undefined) => void;

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
  /** Why ingest is refused now, if it is: the first of {@link refusals} in {@link RefusalCause} order. */
  private refusal: TickringError | undefined;
  private cause: RefusalCause | undefined;
  /** Each cause's refusal while it holds; `wal` (a failed fdatasync, or an undo that failed) is never lifted. */
  private readonly refusals: { [C in RefusalCause]?: TickringError } = {};
  /**
   * A leader of a replication group takes ingest only while its lease holds: until `until()` (ms since the
   * epoch); a group committed later is dropped and refused with `lapsed`.
   */
  private lease: { until: () => number; lapsed: TickringError } | undefined;
  /** Acks wait for this seq too (`--ack-after replicated`): the highest the stream holds. */
  private replicatedSeq = Number.MAX_SAFE_INTEGER;
  /** The group being built was dropped (a roll inside an append failed): its commit must fail too. */
  private groupLost: TickringError | undefined;
  private probe: NodeJS.Timeout | undefined;
  private readonly durableListeners: (() => void)[] = [];
  private readonly refusalListeners: RefusalListener[] = [];

  constructor(private readonly o: WriterOptions) {
    o.wal.onDurable((seq) => {
      o.shared[STATUS_DURABLE_SEQ] = seq;
      this.ackUpTo();
    });
    o.wal.onFailure((err) => this.breakDown(err));
  }

  /** Why the writer refuses ingest, if it does. */
  get failed(): TickringError | undefined {
    return this.refusal;
  }

  /**
   * Calls `listener` after each advance of the durable (or replicated) seq, and when the writer fails (to
   * tell workers).
   */
  onDurable(listener: () => void): void {
    this.durableListeners.push(listener);
  }

  /** Calls `listener` with why ingest is refused now, then on every change of it (see the module doc). */
  onRefusal(listener: RefusalListener): void {
    this.refusalListeners.push(listener);
    listener(this.refusal, this.cause);
  }

  /**
   * Starts refusing ingest because the disk was full at start (the daemon then serves read-only until it
   * has room).
   */
  startFull(): void {
    this.refuseWrites(new TickringError("DISK_FULL", "the disk was full at start"));
  }

  /**
   * Refuses ingest for the node's role from now on (a follower answers `READ_ONLY` naming its leader), or
   * lifts that with undefined — for a leader, only while `lease` holds. A refusal by the WAL or the disk,
   * while it holds, is told first.
   */
  refuseIngest(err: TickringError | undefined, lease?: { until: () => number; lapsed: TickringError }): void {
    this.lease = err === undefined ? lease : undefined;
    this.set("role", err);
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
    // A follower's frames are committed whatever its role refuses; ingest was refused before it was sequenced.
    const storage = this.refusals.wal ?? this.refusals.disk;
    if (storage !== undefined) return storage;
    if (this.lease !== undefined && Date.now() >= this.lease.until())
      return this.leaseLapsed(this.lease.lapsed);
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
    if (seq! <= this.ackedSeq()) return Promise.resolve(seq!);
    return this.o.local.wait(seq!);
  }

  /**
   * Appends frames that carry their seqs already, `firstSeq` on (a follower copying its leader's log); they
   * become visible with the next {@link commit}. Throws the WAL's or the disk's refusal, the WAL's refusal
   * of a seq that does not follow its last, or the error that dropped the group.
   */
  appendReplicated(frames: Uint8Array, count: number, firstSeq: number): number {
    const storage = this.refusals.wal ?? this.refusals.disk;
    if (storage !== undefined) throw storage;
    try {
      const seq = this.o.sequencer.appendStamped(frames, count, firstSeq);
      this.ticks += count;
      return seq;
    } catch (err) {
      throw this.lost(err);
    }
  }

  /** The stream holds every seq up to `seq`: acks held for it (`--ack-after replicated`) go out. */
  replicated(seq: number): void {
    this.replicatedSeq = seq;
    this.ackUpTo();
  }

  /** What publishers may be acked up to: durable here and, when acks wait for it, in the stream. */
  private ackedSeq(): number {
    return Math.min(this.o.wal.durableSeq, this.replicatedSeq);
  }

  private ackUpTo(): void {
    this.o.local.durable(this.ackedSeq());
    for (const l of this.durableListeners) l();
  }

  /**
   * The leader's lease may have lapsed — the process was paused past it, and the timer that says so has not
   * run yet — so another node may lead already: what was sequenced since the last commit is dropped, never
   * written nor acked, and ingest is refused until the lease is renewed.
   */
  private leaseLapsed(lapsed: TickringError): TickringError {
    this.o.sequencer.abandon();
    this.lease = undefined;
    this.o.log.warn("the leader lease may have lapsed: the group is dropped and ingest refused");
    this.set("role", lapsed);
    return lapsed;
  }

  /** An append failed: BAD_FRAME keeps the group; a WAL error dropped it (the sequencer took it back). */
  private lost(err: unknown): TickringError {
    if (err instanceof TickringError && err.code === "BAD_FRAME") return err;
    // A replicated frame whose seq does not follow the WAL's: the follower's to sort out, the disk is fine.
    if (err instanceof WalSeqError) throw err;
    this.groupLost = this.writeFailed(err);
    return this.groupLost;
  }

  /** The WAL could not write a group (it dropped it): refuse ingest until the disk recovers. */
  private writeFailed(err: unknown): TickringError {
    if (this.refusals.wal !== undefined) return this.refusals.wal;
    const code: ErrorCode = isDiskFull(err) ? "DISK_FULL" : "IO_ERROR";
    const refusal = new TickringError(code, `the WAL could not write: ${(err as Error).message}`, {
      cause: err,
    });
    this.o.log.error({ err }, "WAL write failed: ingest refused until the disk recovers");
    this.refuseWrites(refusal);
    return refusal;
  }

  /** Refuses ingest (and a follower's frames) until {@link probeRoom} finds the disk writable again. */
  private refuseWrites(refusal: TickringError): void {
    this.probe ??= setInterval(() => this.probeRoom(), PROBE_MS);
    this.probe.unref();
    this.set("disk", refusal);
  }

  /** Sets or lifts `cause`'s refusal; tells shared state and the listeners when why ingest is refused changed. */
  private set(cause: RefusalCause, refusal: TickringError | undefined): void {
    this.refusals[cause] = refusal;
    const now: RefusalCause | undefined =
      this.refusals.wal !== undefined
        ? "wal"
        : this.refusals.disk !== undefined
          ? "disk"
          : this.refusals.role !== undefined
            ? "role"
            : undefined;
    const next = now === undefined ? undefined : this.refusals[now];
    if (next === this.refusal) return;
    this.refusal = next;
    this.cause = now;
    this.o.shared[STATUS_INGEST_REFUSED] = next === undefined ? 0 : slotOf(next.code);
    for (const l of this.refusalListeners) l(next, now);
  }

  /** Resumes ingest once the disk has room again (a disk that failed otherwise gets another try too). */
  private probeRoom(): void {
    const refusal = this.refusals.disk;
    if (this.refusals.wal !== undefined || refusal === undefined) return;
    let free: number;
    try {
      free = freeBytes(this.o.walDir);
    } catch {
      return;
    }
    if (refusal.code === "DISK_FULL" && free < this.o.resumeFreeBytes) return;
    clearInterval(this.probe);
    this.probe = undefined;
    this.o.log.info({ free }, "the WAL's disk has room again: writing again");
    this.set("disk", undefined);
    this.o.reserve.ensure().catch((err) => this.o.log.warn({ err }, "the reserve file could not be written"));
  }

  /** The WAL failed for good: every waiting call and every later message is answered with the error. */
  private breakDown(err: unknown): void {
    if (this.refusals.wal !== undefined) return;
    const code: ErrorCode = isDiskFull(err) ? "DISK_FULL" : "IO_ERROR";
    const refusal = new TickringError(code, `the WAL failed: ${(err as Error).message}`, { cause: err });
    this.o.shared[STATUS_WRITER_FAILED] = slotOf(code);
    clearInterval(this.probe);
    this.o.log.error({ err }, "WAL failed: ingest is refused until a restart");
    this.set("wal", refusal);
    this.o.local.failAll(refusal);
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
