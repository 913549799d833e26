/**
 * Writes the WAL's segment files: `append()` copies a record (layout: {@link ./record-layout.ts}) into one
 * preallocated pending buffer and computes its CRC32C; `write()` hands the whole group to the kernel with
 * one `writeSync` at an explicit position. Segments roll by size; each gets a sparse index (layout:
 * {@link ./index-layout.ts}), one entry per `indexIntervalBytes`, written with the group.
 *
 * Durability is not its business: it tells the {@link FsyncScheduler} which fd it writes and what it has
 * written, and hands it each segment it seals when it rolls.
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { crc32c } from "@node-rs/crc32";
import { WalFrameError, WalIoError, WalSeqError } from "../errors.js";
import { indexPathOf, segmentPath } from "./files.js";
import type { FsyncScheduler } from "./fsync-scheduler.js";
import { INDEX_ENTRY_LENGTH, recordOffsetOffset, seqDeltaOffset } from "./index-layout.js";
import type { SealedSegment, ResumeState } from "./open.js";
import type { ResolvedWalOptions } from "./options.js";
import {
  badFrameLength,
  crcOffset,
  expectedSizePrefix,
  frameOffset,
  lengthOffset,
  recordLength,
} from "./record-layout.js";
import { nextIndexBoundary } from "./scan.js";

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

/** The writing side of one WAL directory. Single writer, one thread. */
export class SegmentWriter {
  private buf: Buffer;
  private pendingLen = 0;
  private idxBuf = Buffer.allocUnsafe(64 * INDEX_ENTRY_LENGTH);
  private idxPendingLen = 0;
  private idxBytes = 0;
  private nextIndexAt: number;
  private _lastSeq: number;
  private _writtenSeq: number;
  private fd = -1;
  private idxFd = -1;
  private segFirstSeq = 0;
  private segBytes = 0;
  private readonly sealed: SealedSegment[];

  constructor(
    private readonly opts: ResolvedWalOptions,
    private readonly fsync: FsyncScheduler,
    resume: ResumeState,
  ) {
    this.buf = Buffer.allocUnsafe(opts.initialBufferBytes);
    this.nextIndexAt = opts.indexIntervalBytes;
    this._lastSeq = resume.lastSeq;
    this._writtenSeq = resume.lastSeq;
    this.sealed = resume.sealed;
    const a = resume.active;
    if (a !== null) this.resumeSegment(a.firstSeq, a.bytes, a.index);
  }

  /** Highest seq appended. */
  get lastSeq(): number {
    return this._lastSeq;
  }

  /** Highest seq written to the kernel. */
  get writtenSeq(): number {
    return this._writtenSeq;
  }

  /**
   * Copies a size-prefixed frame into the pending group. `seq` must be `lastSeq + 1`. Allocation-free unless
   * the group outgrows its buffer. Writes the pending group first when the segment must roll.
   */
  append(frame: Uint8Array, seq: number): void {
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

  /** Writes the pending group (and its index entries) with one `writeSync` each; then tells the scheduler. */
  write(): void {
    if (this.pendingLen === 0) return;
    // Positional writes: after a failure (ENOSPC…) the group is still pending and a retry rewrites it in place.
    this.writeAt(this.fd, this.buf, this.pendingLen, this.segBytes, ".log");
    this.segBytes += this.pendingLen;
    this.pendingLen = 0;
    if (this.idxPendingLen > 0) {
      this.writeAt(this.idxFd, this.idxBuf, this.idxPendingLen, this.idxBytes, ".idx");
      this.idxBytes += this.idxPendingLen;
      this.idxPendingLen = 0;
    }
    this._writtenSeq = this._lastSeq;
    this.fsync.written(this._writtenSeq);
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
   * Deletes the oldest segment if it is sealed and every seq in it is ≤ `coveredSeq`. Returns the deleted
   * file, or null. Readers that have it open keep reading it (unlinked files stay readable).
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

  /** Closes the active segment's files (the scheduler has stopped: no fdatasync uses them). */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    if (this.idxFd >= 0) closeSync(this.idxFd);
    this.fd = -1;
    this.idxFd = -1;
  }

  /** Seals the current segment (durable first, unless `os`) and starts one whose first record is `seq`. */
  private roll(seq: number): void {
    const fd = this.fd;
    const idxFd = this.idxFd;
    this.fsync.syncBeforeSeal(fd);
    this.sealed.push({
      file: segmentPath(this.opts.dir, this.segFirstSeq),
      firstSeq: this.segFirstSeq,
      bytes: this.segBytes,
    });
    this.createSegment(seq);
    this.fsync.sealed(fd, idxFd);
  }

  private createSegment(firstSeq: number): void {
    const file = segmentPath(this.opts.dir, firstSeq);
    try {
      this.fd = openSync(file, "w");
      this.idxFd = openSync(indexPathOf(file), "w");
    } catch (err) {
      throw new WalIoError("create", file, err as NodeJS.ErrnoException);
    }
    if (this.opts.fsync !== "os") syncDir(this.opts.dir);
    this.fsync.useFd(this.fd);
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
    this.fsync.useFd(this.fd);
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

  /** `writeSync` until all `len` bytes of `buf` are at `position` (short writes are legal for regular files). */
  private writeAt(fd: number, buf: Buffer, len: number, position: number, ext: ".log" | ".idx"): void {
    let done = 0;
    try {
      while (done < len) done += writeSync(fd, buf, done, len - done, position + done);
    } catch (err) {
      const file = segmentPath(this.opts.dir, this.segFirstSeq);
      throw new WalIoError("write", ext === ".log" ? file : indexPathOf(file), err as NodeJS.ErrnoException);
    }
  }

  private grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.pendingLen);
    this.buf = bigger;
  }
}

/** fsyncs a directory so a new or removed entry in it survives power loss. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
