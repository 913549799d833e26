/**
 * Writes the WAL's segment files: `append()` copies a record (layout: {@link ./record-layout.ts}) into one
 * preallocated pending buffer and computes its CRC32C; `write()` hands the whole group to the kernel with
 * one `writeSync` at an explicit position. Segments roll by size; each gets a sparse index (layout:
 * {@link ./index-layout.ts}), one entry per `indexIntervalBytes`, written with the group.
 *
 * A group is all or nothing. From its first `append()` to the end of its `write()` it is open: a roll inside
 * it (the part before the roll is written to the old segment, which is fdatasynced, and the next segment is
 * created) is tentative. If a write or a segment creation fails (ENOSPC, EIO…), or the caller discards the
 * group, everything the group did is undone — segments it created are deleted, the segment it began in and
 * its index are truncated back — and the WAL is exactly as after its last successful `write()`, usable
 * again (a retry succeeds once space returns). Only a failed undo fails the WAL for good ({@link WalFailure}).
 * The fsync scheduler hears of a group (its records, its sealed segments, its new fd) only once it is written.
 *
 * Durability is not its business: it tells the {@link FsyncScheduler} which fd it writes and what it has
 * written, and hands it each segment it seals when it rolls.
 */
import { crc32c } from "@node-rs/crc32";
import { WalFrameError, WalIoError, WalSeqError } from "../errors.js";
import type { WalFailure } from "./failure.js";
import type { WalFileOps } from "./file-ops.js";
import { indexPathOf, segmentPath } from "./files.js";
import type { FsyncScheduler } from "./fsync-scheduler.js";
import { INDEX_ENTRY_LENGTH, recordOffsetOffset, seqDeltaOffset } from "./index-layout.js";
import type { ResumeState, SealedSegment } from "./open.js";
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

/** The segment being written: its files and how far they are written. */
interface ActiveSegment {
  readonly file: string;
  readonly fd: number;
  readonly idxFd: number;
  readonly firstSeq: number;
  /** Bytes in the file (a tentative part of an open group included). */
  bytes: number;
  idxBytes: number;
  /** Segment offset from which the next index entry is due. */
  nextIndexAt: number;
}

/**
 * What an open group changed, to commit or undo it. One per writer, reset for each group: the hot path
 * allocates nothing per message.
 */
class OpenGroup {
  open = false;
  /** The active segment when the group began (null: there was none), and its sizes then. */
  base: ActiveSegment | null = null;
  baseBytes = 0;
  baseIdxBytes = 0;
  baseNextIndexAt = 0;
  /** Segments the group sealed (fdatasynced, still open), oldest first. */
  readonly sealed: ActiveSegment[] = [];
  /** Segments the group created. */
  readonly created: ActiveSegment[] = [];

  begin(base: ActiveSegment | null): void {
    this.open = true;
    this.base = base;
    if (base !== null) {
      this.baseBytes = base.bytes;
      this.baseIdxBytes = base.idxBytes;
      this.baseNextIndexAt = base.nextIndexAt;
    }
  }

  end(): void {
    this.open = false;
    this.base = null;
    this.sealed.length = 0;
    this.created.length = 0;
  }
}

/** The writing side of one WAL directory. Single writer, one thread. */
export class SegmentWriter {
  private buf: Buffer;
  private pendingLen = 0;
  private idxBuf = Buffer.allocUnsafe(64 * INDEX_ENTRY_LENGTH);
  private idxPendingLen = 0;
  private _lastSeq: number;
  private _writtenSeq: number;
  private seg: ActiveSegment | null = null;
  private readonly group = new OpenGroup();
  private readonly sealed: SealedSegment[];

  constructor(
    private readonly opts: ResolvedWalOptions,
    private readonly fsync: FsyncScheduler,
    private readonly files: WalFileOps,
    private readonly failure: WalFailure,
    resume: ResumeState,
  ) {
    this.buf = Buffer.allocUnsafe(opts.initialBufferBytes);
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
   * the group outgrows its buffer. When the segment must roll, writes the group's part so far to it and
   * starts the next one; if that fails, the whole group is undone and the error thrown.
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
    if (!this.group.open) this.group.begin(this.seg);
    let seg = this.seg;
    try {
      if (seg === null) {
        seg = this.startSegment(seq);
      } else if (
        seg.bytes + this.pendingLen + rec > this.opts.segmentBytes &&
        seg.bytes + this.pendingLen > 0
      ) {
        this.writePending(seg);
        this.fsync.syncBeforeSeal(seg.fd);
        this.group.sealed.push(seg);
        seg = this.startSegment(seq);
      }
    } catch (err) {
      throw this.undo(err);
    }
    if (this.pendingLen + rec > this.buf.length) this.grow(this.pendingLen + rec);
    const at = this.pendingLen;
    const buf = this.buf;
    buf.writeUInt32LE(len, lengthOffset(at));
    buf.writeUInt32LE(crc32c(frame), crcOffset(at));
    buf.set(frame, frameOffset(at));
    const recordAt = seg.bytes + at;
    if (recordAt >= seg.nextIndexAt) this.addIndexEntry(seg, seq - seg.firstSeq, recordAt);
    this.pendingLen = at + rec;
    this._lastSeq = seq;
  }

  /**
   * Writes the pending group (and its index entries) with one `writeSync` each; then tells the scheduler.
   * On a failure the group is undone (see the module doc) and the error — a {@link WalIoError} whose `cause`
   * is the system error — thrown.
   */
  write(): void {
    const group = this.group;
    if (!group.open) return;
    const seg = this.seg!;
    try {
      this.writePending(seg);
    } catch (err) {
      throw this.undo(err);
    }
    for (let i = 0; i < group.sealed.length; i++) {
      const s = group.sealed[i];
      const next = i + 1 < group.sealed.length ? group.sealed[i + 1].firstSeq : seg.firstSeq;
      this.sealed.push({ file: s.file, firstSeq: s.firstSeq, lastSeq: next - 1, bytes: s.bytes });
      this.fsync.sealed(s.fd, s.idxFd);
    }
    if (group.base !== seg) this.fsync.useFd(seg.fd);
    group.end();
    this._writtenSeq = this._lastSeq;
    this.fsync.written(this._writtenSeq);
  }

  /**
   * Drops the pending group: everything appended since the last `write()` is forgotten (`lastSeq` back to
   * `writtenSeq`), and any roll it made undone. Throws only if that undo fails (the WAL has then failed).
   */
  discardPending(): void {
    if (!this.group.open) return;
    const err = this.undo(null);
    if (err !== null) throw err;
  }

  /** The segments, oldest first, the active one last, as of the last `write()`. */
  segments(): WalSegmentInfo[] {
    const out: WalSegmentInfo[] = [];
    for (const s of this.sealed) {
      out.push({ file: s.file, firstSeq: s.firstSeq, lastSeq: s.lastSeq, bytes: s.bytes, active: false });
    }
    const g = this.group;
    const active = g.open ? g.base : this.seg;
    if (active !== null) {
      out.push({
        file: active.file,
        firstSeq: active.firstSeq,
        lastSeq: this._writtenSeq,
        bytes: g.open ? g.baseBytes : active.bytes,
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
    if (oldest.lastSeq > coveredSeq) return null;
    this.sealed.shift();
    this.files.unlinkSync(oldest.file);
    // Hole records stay (a few bytes each, one per repair): history read from the store tells by them
    // that seqs it has no frame of were lost, not merely unreadable.
    this.unlinkIfPresent(indexPathOf(oldest.file));
    return oldest.file;
  }

  /**
   * Closes the active segment's files (the scheduler has stopped: no fdatasync uses them). The WAL refuses
   * writes from now on; {@link segments} still lists what it wrote.
   */
  close(): void {
    if (this.group.open) this.undo(null);
    if (this.seg !== null) {
      this.files.closeSync(this.seg.fd);
      this.files.closeSync(this.seg.idxFd);
    }
  }

  /**
   * Undoes the open group (see the module doc) and returns `err` for the caller to throw. If the undo itself
   * fails, the WAL fails for good and that failure — the error every later call throws — is returned instead.
   */
  private undo<E>(err: E): E | WalIoError {
    const group = this.group;
    this.pendingLen = 0;
    this.idxPendingLen = 0;
    this._lastSeq = this._writtenSeq;
    const base = group.base;
    this.seg = base;
    let file = base?.file ?? this.opts.dir;
    try {
      // Created segments go first: a crash midway then leaves the group's records in the base segment
      // (never acked: harmless), never a base segment cut short before a segment that continues it.
      for (const s of group.created) {
        file = s.file;
        this.files.closeSync(s.fd);
        this.files.closeSync(s.idxFd);
        this.unlinkIfPresent(s.file);
        this.unlinkIfPresent(indexPathOf(s.file));
      }
      if (group.created.length > 0 && this.opts.fsync !== "os") this.syncDir();
      if (base !== null) {
        file = base.file;
        this.files.ftruncateSync(base.fd, group.baseBytes);
        this.files.ftruncateSync(base.idxFd, group.baseIdxBytes);
        base.bytes = group.baseBytes;
        base.idxBytes = group.baseIdxBytes;
        base.nextIndexAt = group.baseNextIndexAt;
      }
    } catch (undoErr) {
      const failure = new WalIoError("undo", file, undoErr as NodeJS.ErrnoException);
      this.failure.fail(failure);
      return failure;
    } finally {
      group.end();
    }
    return err;
  }

  /** Writes the pending records and index entries to `seg` at its current end. */
  private writePending(seg: ActiveSegment): void {
    if (this.pendingLen > 0) {
      this.writeAt(seg.fd, this.buf, this.pendingLen, seg.bytes, seg.file);
      seg.bytes += this.pendingLen;
      this.pendingLen = 0;
    }
    if (this.idxPendingLen > 0) {
      this.writeAt(seg.idxFd, this.idxBuf, this.idxPendingLen, seg.idxBytes, indexPathOf(seg.file));
      seg.idxBytes += this.idxPendingLen;
      this.idxPendingLen = 0;
    }
  }

  /** Creates the segment whose first record is `firstSeq` (part of the open group) and makes it current. */
  private startSegment(firstSeq: number): ActiveSegment {
    const file = segmentPath(this.opts.dir, firstSeq);
    let fd = -1;
    try {
      fd = this.files.openSync(file, "w");
      const idxFd = this.files.openSync(indexPathOf(file), "w");
      const seg: ActiveSegment = {
        file,
        fd,
        idxFd,
        firstSeq,
        bytes: 0,
        idxBytes: 0,
        nextIndexAt: this.opts.indexIntervalBytes,
      };
      this.group.created.push(seg);
      this.seg = seg;
      if (this.opts.fsync !== "os") this.syncDir();
      return seg;
    } catch (err) {
      if (fd >= 0 && this.seg?.fd !== fd) {
        // The index could not be created: the log file alone is not part of the group yet.
        this.files.closeSync(fd);
        this.unlinkIfPresent(file);
      }
      throw err instanceof WalIoError ? err : new WalIoError("create", file, err as NodeJS.ErrnoException);
    }
  }

  /**
   * Continues writing the last segment after the open-time scan, with its index rewritten from that scan.
   * The index is only a hint: when it cannot be rewritten (a full disk at start), it is emptied and grows
   * from the next entry on, and the WAL opens anyway.
   */
  private resumeSegment(firstSeq: number, bytes: number, index: number[]): void {
    const file = segmentPath(this.opts.dir, firstSeq);
    const idx = Buffer.alloc((index.length / 2) * INDEX_ENTRY_LENGTH);
    for (let i = 0; i < index.length / 2; i++) {
      idx.writeUInt32LE(index[2 * i], seqDeltaOffset(i));
      idx.writeUInt32LE(index[2 * i + 1], recordOffsetOffset(i));
    }
    const fd = this.files.openSync(file, "r+");
    const idxFd = this.files.openSync(indexPathOf(file), "w");
    let idxBytes = idx.length;
    try {
      for (let done = 0; done < idx.length;)
        done += this.files.writeSync(idxFd, idx, done, idx.length - done, done);
    } catch {
      this.files.ftruncateSync(idxFd, 0);
      idxBytes = 0;
    }
    const lastEntry = index.length > 0 ? index[index.length - 1] : -1;
    this.seg = {
      file,
      fd,
      idxFd,
      firstSeq,
      bytes,
      idxBytes,
      // Same rule as the scan that built `index`, so the entries continue as if the writer had never stopped.
      nextIndexAt:
        lastEntry < 0
          ? this.opts.indexIntervalBytes
          : nextIndexBoundary(lastEntry, this.opts.indexIntervalBytes),
    };
    this.fsync.useFd(fd);
  }

  private addIndexEntry(seg: ActiveSegment, seqDelta: number, recordAt: number): void {
    if (this.idxPendingLen + INDEX_ENTRY_LENGTH > this.idxBuf.length) {
      const bigger = Buffer.allocUnsafe(this.idxBuf.length * 2);
      this.idxBuf.copy(bigger, 0, 0, this.idxPendingLen);
      this.idxBuf = bigger;
    }
    this.idxBuf.writeUInt32LE(seqDelta, this.idxPendingLen + seqDeltaOffset(0));
    this.idxBuf.writeUInt32LE(recordAt, this.idxPendingLen + recordOffsetOffset(0));
    this.idxPendingLen += INDEX_ENTRY_LENGTH;
    seg.nextIndexAt = nextIndexBoundary(recordAt, this.opts.indexIntervalBytes);
  }

  /** `writeSync` until all `len` bytes of `buf` are at `position` (short writes are legal for regular files). */
  private writeAt(fd: number, buf: Buffer, len: number, position: number, file: string): void {
    let done = 0;
    try {
      while (done < len) done += this.files.writeSync(fd, buf, done, len - done, position + done);
    } catch (err) {
      throw new WalIoError("write", file, err as NodeJS.ErrnoException);
    }
  }

  private unlinkIfPresent(path: string): void {
    try {
      this.files.unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  /** fsyncs the WAL directory so a created or removed segment survives power loss. */
  private syncDir(): void {
    const fd = this.files.openSync(this.opts.dir, "r");
    try {
      this.files.fsyncSync(fd);
    } finally {
      this.files.closeSync(fd);
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
