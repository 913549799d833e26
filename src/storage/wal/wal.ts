/**
 * The write-ahead log: the sequencer's frames, appended in seq order to segment files
 * (`<dir>/<first-seq, 12 digits>.log`, records laid out in {@link ./record-layout.ts}), with group commit.
 *
 * Write path (main thread, synchronous): `append()` copies a record into one preallocated pending buffer and
 * computes its CRC32C; `write()` hands the whole group to the kernel with one `writeSync` at an explicit
 * position. After `write()` returns the records are *accepted*: the sequencer may publish them to the ring.
 * Nothing reaches the ring or a client before that (write-ahead). fdatasync runs asynchronously on the libuv
 * pool while the main thread keeps writing to the same fd; `durableSeq` is the `writtenSeq` captured when that
 * fdatasync started, so it never claims a record the sync may not have covered.
 *
 * Guarantees by fsync policy (see {@link FsyncPolicy}):
 * - every policy: an accepted record survives a crash of this process (`kill -9`): it is in the page cache.
 *   After any crash, open() returns exactly a gap-free prefix of what was appended; a torn tail is cut.
 * - `always` / `batch`: records up to `durableSeq` also survive power loss and kernel crashes. Under `batch`
 *   at most `batchMs` ms or `batchRecords` records of accepted records are at risk; under `always` only the
 *   writes since the fdatasync in flight started.
 * - `os`: `durableSeq` follows `writtenSeq`; after a power loss any suffix may be lost (never reordered data:
 *   the cut at open still returns a valid prefix).
 * Rolling a segment fdatasyncs the old one and the directory synchronously (except under `os`), so a sealed
 * segment is always complete and only the last segment can have a torn tail.
 *
 * Single writer: one Wal per directory, used from one thread. Readers (any thread) use {@link openWalReader}.
 */

import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { performance } from "node:perf_hooks";
import { crc32c } from "@node-rs/crc32";
import { ClosedError, StorageError, WalCorruptError, WalFrameError, WalSeqError } from "../errors.js";
import { indexPathOf, listSegments, segmentPath } from "./files.js";
import { INDEX_ENTRY_LENGTH, recordOffsetOffset, seqDeltaOffset } from "./index-layout.js";
import { type FsyncPolicy, parseWalOptions, type ResolvedWalOptions, type WalOptions } from "./options.js";
import {
  badFrameLength,
  crcOffset,
  expectedSizePrefix,
  frameOffset,
  lengthOffset,
  recordLength,
} from "./record-layout.js";
import { nextIndexBoundary, scanSegmentFile } from "./scan.js";

export type { FsyncPolicy, WalOptions } from "./options.js";

/** What {@link Wal.open} found. */
export interface WalOpenReport {
  /** Highest seq in the WAL after the cut (0 when empty). */
  lastSeq: number;
  /** Set when the last segment had a torn or corrupt tail, which was cut. */
  truncated?: { file: string; offset: number; reason: string; bytesCut: number };
}

/** One segment of the WAL. */
export interface WalSegmentInfo {
  file: string;
  firstSeq: number;
  /** Seq of its last record (firstSeq - 1 when empty). */
  lastSeq: number;
  /** Bytes written to it (the pending group excluded). */
  bytes: number;
  /** True for the segment being written. */
  active: boolean;
}

/** Cumulative fdatasync figures, for metrics. */
export interface WalFsyncStats {
  count: number;
  totalNs: number;
  lastNs: number;
  maxNs: number;
}

interface FlushWaiter {
  gen: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The write-ahead log. Create with {@link Wal.open}. */
export class Wal {
  private readonly opts: ResolvedWalOptions;
  private readonly policy: FsyncPolicy;
  private buf: Buffer;
  private pendingLen = 0;
  private idxBuf = Buffer.allocUnsafe(64 * INDEX_ENTRY_LENGTH);
  private idxPendingLen = 0;
  private idxBytes = 0;
  private nextIndexAt: number;

  private _lastSeq: number;
  private _writtenSeq: number;
  private _durableSeq: number;

  private fd = -1;
  private idxFd = -1;
  private segFirstSeq = 0;
  private segBytes = 0;
  private readonly sealed: { file: string; firstSeq: number; bytes: number }[] = [];
  /** fds of rolled segments whose close waits for the fdatasync in flight. */
  private readonly retiredFds: number[] = [];

  private syncing = false;
  private syncAgain = false;
  private syncTarget = 0;
  private syncStartMs = 0;
  private syncedThrough = 0; // writtenSeq covered by the last sync started
  private syncStartedGen = 0;
  private syncDoneGen = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerArmed = false;
  private readonly waiters: FlushWaiter[] = [];
  private readonly listeners: ((durableSeq: number) => void)[] = [];
  private failure: unknown = null;
  private closed = false;
  private readonly onSyncedBound = (err: NodeJS.ErrnoException | null) => this.onSynced(err);
  private readonly onTimerBound = () => this.onTimer();

  /** fdatasync figures since open. */
  readonly fsyncStats: WalFsyncStats = { count: 0, totalNs: 0, lastNs: 0, maxNs: 0 };

  private constructor(opts: ResolvedWalOptions, lastSeq: number) {
    this.opts = opts;
    this.policy = opts.fsync;
    this.buf = Buffer.allocUnsafe(opts.initialBufferBytes);
    this.nextIndexAt = opts.indexIntervalBytes;
    this._lastSeq = lastSeq;
    this._writtenSeq = lastSeq;
    this._durableSeq = lastSeq;
    this.syncedThrough = lastSeq;
  }

  /**
   * Opens (or creates) the WAL in `options.dir`: scans the last segment, cuts a torn or corrupt tail (reported),
   * rebuilds its sparse index, and resumes after its last good record. With `verifySealed`, a bad record in a
   * sealed segment throws {@link WalCorruptError} naming the file and offset.
   */
  static async open(options: WalOptions): Promise<{ wal: Wal; report: WalOpenReport }> {
    const opts = parseWalOptions(options);
    mkdirSync(opts.dir, { recursive: true });
    const files = listSegments(opts.dir);
    const report: WalOpenReport = { lastSeq: 0 };
    if (files.length === 0) {
      const wal = new Wal(opts, 0);
      return { wal, report };
    }
    const sealed = files.slice(0, -1);
    // The newest sealed segment is always verified (one segment, tens of ms): under `os` a power loss right after
    // a roll can tear it. `verifySealed` extends that to every sealed segment.
    for (let i = opts.verifySealed ? 0 : Math.max(0, sealed.length - 1); i < sealed.length; i++) {
      const scan = scanSegmentFile(sealed[i].file, opts.indexIntervalBytes);
      if (scan.goodEnd < scan.fileBytes) {
        throw new WalCorruptError(sealed[i].file, scan.goodEnd, scan.corrupt?.reason ?? "partial record");
      }
      const expected = files[i + 1].firstSeq - sealed[i].firstSeq;
      if (scan.count !== expected) {
        throw new WalCorruptError(
          sealed[i].file,
          scan.goodEnd,
          `${scan.count} records where the next segment's name implies ${expected}`,
        );
      }
    }
    const last = files[files.length - 1];
    const scan = scanSegmentFile(last.file, opts.indexIntervalBytes);
    if (scan.goodEnd < scan.fileBytes) {
      const fd = openSync(last.file, "r+");
      try {
        ftruncateSync(fd, scan.goodEnd);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      report.truncated = {
        file: last.file,
        offset: scan.goodEnd,
        reason: scan.corrupt?.reason ?? "partial record at the tail",
        bytesCut: scan.fileBytes - scan.goodEnd,
      };
    }
    const lastSeq = last.firstSeq + scan.count - 1;
    report.lastSeq = lastSeq;
    const wal = new Wal(opts, lastSeq);
    for (const s of sealed)
      wal.sealed.push({ file: s.file, firstSeq: s.firstSeq, bytes: statSync(s.file).size });
    wal.resumeSegment(last.firstSeq, scan.goodEnd, scan.index);
    return { wal, report };
  }

  /** Highest seq appended. */
  get lastSeq(): number {
    return this._lastSeq;
  }

  /** Highest seq written to the kernel (accepted: safe to publish). */
  get writtenSeq(): number {
    return this._writtenSeq;
  }

  /** Highest seq durable under the fsync policy. */
  get durableSeq(): number {
    return this._durableSeq;
  }

  /**
   * Copies a size-prefixed frame into the pending group. `seq` must be `lastSeq + 1`. Synchronous and
   * allocation-free unless the group outgrows its buffer. May write the pending group first when the segment
   * must roll.
   */
  append(frame: Uint8Array, seq: number): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new ClosedError("ERR_WAL_CLOSED", "WAL");
    if (seq !== this._lastSeq + 1) throw new WalSeqError(this._lastSeq + 1, seq);
    const len = frame.length;
    const bad = badFrameLength(len);
    if (bad !== null) throw new WalFrameError(len, bad);
    const prefix = (frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24)) >>> 0;
    if (prefix !== expectedSizePrefix(len))
      throw new WalFrameError(len, `size prefix ${prefix} is not length - 4`);
    const rec = recordLength(len);
    if (this.fd < 0) {
      this.createSegment(seq);
    } else if (
      this.segBytes + this.pendingLen + rec > this.opts.segmentBytes &&
      this.segBytes + this.pendingLen > 0
    ) {
      this.write();
      this.roll(seq);
    }
    if (this.pendingLen + rec > this.buf.length) this.grow(this.pendingLen + rec);
    const at = this.pendingLen;
    const buf = this.buf;
    buf.writeUInt32LE(len, lengthOffset(at));
    buf.writeUInt32LE(crc32c(frame), crcOffset(at));
    buf.set(frame, frameOffset(at));
    const recordAt = this.segBytes + at;
    if (recordAt >= this.nextIndexAt) this.addIndexEntry(seq - this.segFirstSeq, recordAt);
    this.pendingLen = at + rec;
    this._lastSeq = seq;
  }

  /**
   * Writes the pending group with one `writeSync`. When it returns, every appended record is accepted
   * (`writtenSeq === lastSeq`) and the fsync policy takes over.
   */
  write(): void {
    if (this.failure !== null) throw this.failure;
    if (this.pendingLen === 0) return;
    writeFully(this.fd, this.buf, this.pendingLen, this.segBytes);
    this.segBytes += this.pendingLen;
    this.pendingLen = 0;
    if (this.idxPendingLen > 0) {
      writeFully(this.idxFd, this.idxBuf, this.idxPendingLen, this.idxBytes);
      this.idxBytes += this.idxPendingLen;
      this.idxPendingLen = 0;
    }
    this._writtenSeq = this._lastSeq;
    this.afterWrite();
  }

  /** Registers a listener called (once per fsync group) when `durableSeq` advances. */
  onDurable(listener: (durableSeq: number) => void): void {
    this.listeners.push(listener);
  }

  /** Writes the pending group and fdatasyncs now (under every policy); resolves when all appended is durable. */
  flush(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve();
    this.write();
    if (this.fd < 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (this.syncing) {
        this.syncAgain = true;
        this.waiters.push({ gen: this.syncStartedGen + 1, resolve, reject });
      } else {
        this.startSync();
        this.waiters.push({ gen: this.syncStartedGen, resolve, reject });
      }
    });
  }

  /** Flushes, then closes the files. Further appends throw `ERR_WAL_CLOSED`. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.failure === null) await this.flush();
    while (this.syncing) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    this.disarmTimer();
    for (const fd of this.retiredFds.splice(0)) closeSync(fd);
    if (this.fd >= 0) closeSync(this.fd);
    if (this.idxFd >= 0) closeSync(this.idxFd);
    this.fd = -1;
    this.idxFd = -1;
  }

  /** The segments, oldest first, the active one last. */
  segments(): WalSegmentInfo[] {
    const out: WalSegmentInfo[] = [];
    for (let i = 0; i < this.sealed.length; i++) {
      const s = this.sealed[i];
      const next = i + 1 < this.sealed.length ? this.sealed[i + 1].firstSeq : this.segFirstSeq;
      out.push({ file: s.file, firstSeq: s.firstSeq, lastSeq: next - 1, bytes: s.bytes, active: false });
    }
    if (this.segFirstSeq > 0) {
      out.push({
        file: segmentPath(this.opts.dir, this.segFirstSeq),
        firstSeq: this.segFirstSeq,
        lastSeq: this._writtenSeq,
        bytes: this.segBytes,
        active: true,
      });
    }
    return out;
  }

  /**
   * Deletes the oldest segment if it is sealed and every seq in it is ≤ `coveredSeq` (the store's checkpoint).
   * Returns the deleted file, or null. Readers that have it open keep reading it (unlinked files stay readable).
   */
  removeOldestSegment(coveredSeq: number): string | null {
    if (this.sealed.length === 0) return null;
    const oldest = this.sealed[0];
    const lastSeq = (this.sealed.length > 1 ? this.sealed[1].firstSeq : this.segFirstSeq) - 1;
    if (lastSeq > coveredSeq) return null;
    this.sealed.shift();
    unlinkSync(oldest.file);
    try {
      unlinkSync(indexPathOf(oldest.file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return oldest.file;
  }

  private afterWrite(): void {
    switch (this.policy) {
      case "os":
        this.advanceDurable(this._writtenSeq);
        break;
      case "always":
        this.requestSync();
        break;
      case "batch":
        if (this._writtenSeq - this.syncedThrough >= this.opts.batchRecords) this.requestSync();
        else this.armTimer();
        break;
    }
  }

  private requestSync(): void {
    if (this.syncing) this.syncAgain = true;
    else this.startSync();
  }

  private startSync(): void {
    this.syncing = true;
    this.syncAgain = false;
    this.syncTarget = this._writtenSeq;
    this.syncedThrough = this._writtenSeq;
    this.syncStartedGen++;
    this.syncStartMs = performance.now();
    fdatasync(this.fd, this.onSyncedBound);
  }

  private onSynced(err: NodeJS.ErrnoException | null): void {
    this.syncing = false;
    this.syncDoneGen = this.syncStartedGen;
    for (const fd of this.retiredFds.splice(0)) closeSync(fd);
    if (err !== null) {
      // After a failed fsync the kernel may have dropped the dirty pages: nothing written is trustworthy.
      this.fail(new StorageError("ERR_WAL_IO", `fdatasync failed: ${err.message}`, { cause: err }));
      return;
    }
    const ns = Math.round((performance.now() - this.syncStartMs) * 1e6);
    this.recordFsync(ns, this.syncTarget - this._durableSeq);
    this.advanceDurable(this.syncTarget);
    this.resolveWaiters();
    if (this.closed || this.failure !== null) return;
    const behind = this._writtenSeq - this.syncedThrough;
    if (this.syncAgain || (this.policy === "always" && behind > 0)) this.startSync();
    else if (this.policy === "batch" && behind > 0) {
      if (behind >= this.opts.batchRecords) this.startSync();
      else this.armTimer();
    }
  }

  private onTimer(): void {
    this.timerArmed = false;
    if (this._writtenSeq > this.syncedThrough) this.requestSync();
  }

  private armTimer(): void {
    if (this.timerArmed || this.syncing) return;
    this.timerArmed = true;
    if (this.timer === null) {
      this.timer = setTimeout(this.onTimerBound, this.opts.batchMs);
      this.timer.unref();
    } else {
      this.timer.refresh();
    }
  }

  private disarmTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerArmed = false;
  }

  private advanceDurable(seq: number): void {
    if (seq <= this._durableSeq) return;
    this._durableSeq = seq;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i](seq);
  }

  private resolveWaiters(): void {
    const w = this.waiters;
    let kept = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i].gen <= this.syncDoneGen) w[i].resolve();
      else w[kept++] = w[i];
    }
    w.length = kept;
  }

  private fail(err: unknown): void {
    this.failure = err;
    this.disarmTimer();
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private recordFsync(ns: number, records: number): void {
    const s = this.fsyncStats;
    s.count++;
    s.totalNs += ns;
    s.lastNs = ns;
    if (ns > s.maxNs) s.maxNs = ns;
    this.opts.onFsync?.(ns, records);
  }

  /** Seals the current segment (durable first, unless `os`) and starts one whose first record is `seq`. */
  private roll(seq: number): void {
    if (this.policy !== "os") {
      const t0 = performance.now();
      fdatasyncSync(this.fd);
      this.recordFsync(Math.round((performance.now() - t0) * 1e6), 0);
    }
    this.sealed.push({
      file: segmentPath(this.opts.dir, this.segFirstSeq),
      firstSeq: this.segFirstSeq,
      bytes: this.segBytes,
    });
    // An fdatasync in flight still uses the old fd: close it only when no sync runs.
    if (this.syncing) this.retiredFds.push(this.fd, this.idxFd);
    else {
      closeSync(this.fd);
      closeSync(this.idxFd);
    }
    this.createSegment(seq);
    if (this.policy !== "os") {
      this.syncedThrough = this._writtenSeq;
      this.advanceDurable(this._writtenSeq);
    }
  }

  private createSegment(firstSeq: number): void {
    const file = segmentPath(this.opts.dir, firstSeq);
    this.fd = openSync(file, "w");
    this.idxFd = openSync(indexPathOf(file), "w");
    if (this.policy !== "os") syncDir(this.opts.dir);
    this.segFirstSeq = firstSeq;
    this.segBytes = 0;
    this.idxBytes = 0;
    this.idxPendingLen = 0;
    this.nextIndexAt = this.opts.indexIntervalBytes;
  }

  /** Continues writing the last segment after the open-time scan, with its index rebuilt from that scan. */
  private resumeSegment(firstSeq: number, bytes: number, index: number[]): void {
    const file = segmentPath(this.opts.dir, firstSeq);
    const idx = Buffer.alloc((index.length / 2) * INDEX_ENTRY_LENGTH);
    for (let i = 0; i < index.length / 2; i++) {
      idx.writeUInt32LE(index[2 * i], seqDeltaOffset(i));
      idx.writeUInt32LE(index[2 * i + 1], recordOffsetOffset(i));
    }
    writeFileSync(indexPathOf(file), idx);
    this.fd = openSync(file, "r+");
    this.idxFd = openSync(indexPathOf(file), "r+");
    this.segFirstSeq = firstSeq;
    this.segBytes = bytes;
    this.idxBytes = idx.length;
    const lastEntry = index.length > 0 ? index[index.length - 1] : -1;
    // Same rule as the scan that built `index`, so the entries continue as if the writer had never stopped.
    this.nextIndexAt =
      lastEntry < 0
        ? this.opts.indexIntervalBytes
        : nextIndexBoundary(lastEntry, this.opts.indexIntervalBytes);
  }

  private addIndexEntry(seqDelta: number, recordAt: number): void {
    if (this.idxPendingLen + INDEX_ENTRY_LENGTH > this.idxBuf.length) {
      const bigger = Buffer.allocUnsafe(this.idxBuf.length * 2);
      this.idxBuf.copy(bigger, 0, 0, this.idxPendingLen);
      this.idxBuf = bigger;
    }
    this.idxBuf.writeUInt32LE(seqDelta, this.idxPendingLen + seqDeltaOffset(0));
    this.idxBuf.writeUInt32LE(recordAt, this.idxPendingLen + recordOffsetOffset(0));
    this.idxPendingLen += INDEX_ENTRY_LENGTH;
    this.nextIndexAt = nextIndexBoundary(recordAt, this.opts.indexIntervalBytes);
  }

  private grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.pendingLen);
    this.buf = bigger;
  }
}

/** `writeSync` until all `len` bytes of `buf` are at `position` (short writes are legal for regular files). */
function writeFully(fd: number, buf: Buffer, len: number, position: number): void {
  let done = 0;
  while (done < len) done += writeSync(fd, buf, done, len - done, position + done);
}

/** fsyncs a directory so a new or removed entry in it survives power loss. */
function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
