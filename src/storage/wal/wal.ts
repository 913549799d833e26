/**
 * The write-ahead log: the sequencer's frames, appended in seq order to segment files
 * (`<dir>/<first-seq, 12 digits>.log`, records laid out in {@link ./record-layout.ts}), with group commit.
 * This facade holds the public API; the work is in three modules: {@link openWalDir} (scan, torn-tail cut,
 * resume state), {@link SegmentWriter} (pending group, `writeSync`, roll, sparse index) and
 * {@link FsyncScheduler} (policy, batch timer, the one fdatasync in flight, flush waiters, durable listeners).
 *
 * Write path (main thread, synchronous): `append()` copies a record into the pending group; `write()` hands
 * the group to the kernel with one `writeSync`. After `write()` returns the records are *accepted*: the
 * sequencer may publish them to the ring. Nothing reaches the ring or a client before that (write-ahead).
 *
 * Guarantees by fsync policy (see {@link FsyncPolicy}):
 * - every policy: an accepted record survives a crash of this process (`kill -9`): it is in the page cache.
 *   After any crash, open() returns exactly a gap-free prefix of what was appended; a torn tail is cut.
 * - `always` / `batch`: records up to `durableSeq` also survive power loss and kernel crashes. Under `batch`
 *   at most `batchMs` ms or `batchRecords` records of accepted records are at risk; under `always` only the
 *   writes since the fdatasync in flight started.
 * - `os`: `durableSeq` follows `writtenSeq`; after a power loss any suffix may be lost (never reordered data:
 *   the cut at open still returns a valid prefix).
 *
 * Single writer: one Wal per directory, used from one thread. Readers (any thread) use {@link openWalReader}.
 */
import { ClosedError } from "../errors.js";
import { WalFailure } from "./failure.js";
import { walFileOps } from "./file-ops.js";
import { FsyncScheduler, type WalFsyncStats } from "./fsync-scheduler.js";
import { openWalDir, type WalOpenReport } from "./open.js";
import { parseWalOptions, type WalOptions } from "./options.js";
import { SegmentWriter, type WalSegmentInfo } from "./segment-writer.js";

export type { WalFsyncStats } from "./fsync-scheduler.js";
export type { SealedDamage, WalOpenReport } from "./open.js";
export type { FsyncPolicy, WalOptions } from "./options.js";
export type { WalSegmentInfo } from "./segment-writer.js";

/** The write-ahead log. Create with {@link Wal.open}. */
export class Wal {
  private closed = false;

  private constructor(
    private readonly writer: SegmentWriter,
    private readonly fsync: FsyncScheduler,
    private readonly failure: WalFailure,
  ) {}

  /**
   * Opens (or creates) the WAL in `options.dir`: scans the last segment, cuts a torn or corrupt tail (reported),
   * rebuilds its sparse index, and resumes after its last good record. With `verifySealed`, a bad record in a
   * sealed segment throws {@link WalCorruptError} naming the file and offset.
   */
  static async open(options: WalOptions): Promise<{ wal: Wal; report: WalOpenReport }> {
    const opts = parseWalOptions(options);
    const { resume, report } = openWalDir(opts);
    const files = walFileOps(opts.files);
    const failure = new WalFailure();
    const fsync = new FsyncScheduler(opts, resume.lastSeq, files, failure);
    return { wal: new Wal(new SegmentWriter(opts, fsync, files, failure, resume), fsync, failure), report };
  }

  /** Highest seq appended. */
  get lastSeq(): number {
    return this.writer.lastSeq;
  }

  /** Highest seq written to the kernel (accepted: safe to publish). */
  get writtenSeq(): number {
    return this.writer.writtenSeq;
  }

  /** Highest seq durable under the fsync policy. */
  get durableSeq(): number {
    return this.fsync.durableSeq;
  }

  /** fdatasync figures since open. */
  get fsyncStats(): WalFsyncStats {
    return this.fsync.stats;
  }

  /**
   * Copies a size-prefixed frame into the pending group. `seq` must be `lastSeq + 1`. Synchronous and
   * allocation-free unless the group outgrows its buffer. When the segment must roll, the group's records so
   * far go to the old segment and the next one is created: if that fails, the group is discarded as by a
   * failed {@link write} and the {@link WalIoError} thrown.
   */
  append(frame: Uint8Array, seq: number): void {
    this.failure.check();
    if (this.closed) throw new ClosedError("ERR_WAL_CLOSED", "WAL");
    this.writer.append(frame, seq);
  }

  /**
   * Writes the pending group with one `writeSync`. When it returns, every appended record is accepted
   * (`writtenSeq === lastSeq`) and the fsync policy takes over.
   *
   * When a write fails (ENOSPC, EIO…) the group is discarded — the files are cut back to what they were after
   * the last successful write and `lastSeq` is back at `writtenSeq` — and a {@link WalIoError} is thrown with
   * the system error as `cause` (`cause.code === "ENOSPC"`: the disk is full). The WAL stays usable: the same
   * records can be appended and written again later. Only if that undo fails does the WAL fail for good
   * ({@link onFailure}); every later call then throws that failure.
   */
  write(): void {
    this.failure.check();
    this.writer.write();
  }

  /**
   * Drops the pending group (everything appended since the last {@link write}): `lastSeq` goes back to
   * `writtenSeq`, for a caller that must abandon a message it already appended. Throws only if undoing a roll
   * the group made fails (the WAL has then failed for good).
   */
  discardPending(): void {
    this.writer.discardPending();
  }

  /** Registers a listener called (once per fsync group) when `durableSeq` advances. */
  onDurable(listener: (durableSeq: number) => void): void {
    this.fsync.onDurable(listener);
  }

  /**
   * Registers a listener called once, when the WAL enters its permanent failed state (a failed fdatasync, or
   * a failed undo of a failed write) — at once if it already has. From then on every append, write and
   * flush throws or rejects with that error; only a restart (which re-reads the files) recovers.
   */
  onFailure(listener: (err: unknown) => void): void {
    this.failure.onFailure(listener);
  }

  /**
   * Writes the pending group and fdatasyncs now (under every policy); resolves when all appended is durable.
   * Rejects (never throws) when the write or the sync fails.
   */
  flush(): Promise<void> {
    if (this.failure.error !== null) return Promise.reject(this.failure.error);
    if (this.closed) return Promise.resolve();
    try {
      this.writer.write();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.fsync.flush();
  }

  /** Flushes, then closes the files. Further appends throw `ERR_WAL_CLOSED`. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.failure.error === null) await this.flush();
    await this.fsync.close();
    this.closed = true;
    this.writer.close();
  }

  /** The segments, oldest first, the active one last. */
  segments(): WalSegmentInfo[] {
    return this.writer.segments();
  }

  /**
   * Deletes the oldest segment if it is sealed and every seq in it is ≤ `coveredSeq` (the store's checkpoint).
   * Returns the deleted file, or null. Readers that have it open keep reading it (unlinked files stay readable).
   */
  removeOldestSegment(coveredSeq: number): string | null {
    return this.writer.removeOldestSegment(coveredSeq);
  }
}
