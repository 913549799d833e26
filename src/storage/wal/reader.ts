/**
 * Reads the WAL forward from any seq, in batches with bounded memory: one buffer (`bufferBytes`) and one
 * offsets array per reader, reused for every batch. Usable from any thread, concurrently with the writer.
 *
 * Seeking: the reader picks the segment by file name (first seqs), then the last sparse-index entry at or
 * below the wanted seq, checks that the hinted record is valid and carries the hinted seq (the index is only a
 * hint), and scans forward from there: at most `indexIntervalBytes` (256 KiB) of headers, never the whole
 * segment unless the index is missing or wrong.
 *
 * Tailing: at the end of the data it returns null; call again later to continue. A segment is left only when
 * the file for the next seq (or a hole record there) exists — the writer creates it after its last write to
 * the old one, so one more read of the old file after seeing the new one cannot miss a record. Read no
 * further than the writer's written seq: bytes beyond it may be a group the writer is about to undo.
 *
 * Damage: CRCs are verified as records are read, and the records before a bad one are returned first. At
 * the bad record (or a sealed segment that ends early, or a missing segment), a reader without `onGap`
 * throws — {@link WalCorruptError} with file and offset, {@link WalGapError} — as does any reader in the
 * segment being written. With `onGap`, a reader in a SEALED segment tells it the unreadable range (to the
 * end of that segment: `"unreadable"`) and goes on with the next segment. A recorded hole (seqs given up by
 * `tickring wal repair`) is crossed the same way (`"lost"`), or throws {@link WalGapError} without `onGap`.
 */
import { closeSync, existsSync, fstatSync, openSync, read, readFileSync, readSync } from "node:fs";
import { checkInt, stripUndefined } from "../../config/checks.js";
import { frameSeq } from "../../frame/codec.js";
import {
  ClosedError,
  type StorageError,
  StorageOptionError,
  WalCorruptError,
  WalGapError,
  WalSeqRetiredError,
} from "../errors.js";
import { indexPathOf, listSegments, segmentPath } from "./files.js";
import { holeCovering, listHoles, type WalHole } from "./holes.js";
import { entryCount, recordOffsetOffset, seqDeltaOffset } from "./index-layout.js";
import { frameOffset, MAX_RECORD_LENGTH } from "./record-layout.js";
import { newScanState, ScanStop, scanRecords } from "./scan.js";

/**
 * A run of consecutive frames, seq `firstSeq` to `lastSeq`. `offsets[i]` is the position in `bytes` of the
 * size-prefixed frame of seq `firstSeq + i`. Views, not copies: valid until the producer's next call.
 */
export interface FrameBatch {
  bytes: Uint8Array;
  offsets: Int32Array;
  count: number;
  firstSeq: number;
  lastSeq: number;
}

/**
 * Why seqs were skipped: `"unreadable"` — their records in a sealed segment are damaged (or the segment ends
 * early, or is missing); `"lost"` — a hole recorded by `tickring wal repair` (those seqs are gone for good).
 */
export type WalGapReason = "unreadable" | "lost";

/**
 * Told that seqs `from`..`to` will not be read, and why; `cause` is the error a reader without `onGap`
 * throws there. Called during a read, before it returns anything after the range.
 */
export type WalGapListener = (from: number, to: number, reason: WalGapReason, cause: StorageError) => void;

/** Options of {@link openWalReader}. */
export interface WalReaderOptions {
  /** Read buffer; a batch never exceeds it. At least 2 × the largest record. @default 1 MiB */
  bufferBytes?: number;
  /** Most frames in one batch. @default 65536 */
  maxFrames?: number;
  /** Verify each record's CRC32C as it is read. @default true */
  verifyCrc?: boolean;
  /** Skip what cannot be read and say so here, instead of throwing (see the module doc). */
  onGap?: WalGapListener;
}

/** {@link WalReader.advance} wants more bytes from the file. */
const NEED_BYTES = Symbol("need bytes");

/** Polls at the end of the data between two checks for a missing segment. */
const GAP_CHECK_EVERY = 64;

type ResolvedReaderOptions = Required<Omit<WalReaderOptions, "onGap">> & Pick<WalReaderOptions, "onGap">;

const READER_DEFAULTS: ResolvedReaderOptions = {
  bufferBytes: 1 << 20,
  maxFrames: 65536,
  verifyCrc: true,
};

function parseReaderOptions(options: WalReaderOptions | undefined): ResolvedReaderOptions {
  const o = { ...READER_DEFAULTS, ...stripUndefined(options ?? {}) };
  checkInt("bufferBytes", o.bufferBytes, 2 * MAX_RECORD_LENGTH, 2 ** 30, StorageOptionError);
  checkInt("maxFrames", o.maxFrames, 1, 2 ** 24, StorageOptionError);
  if (typeof o.verifyCrc !== "boolean") throw new StorageOptionError("verifyCrc", o.verifyCrc, "a boolean");
  if (o.onGap !== undefined && typeof o.onGap !== "function") {
    throw new StorageOptionError("onGap", o.onGap, "a function");
  }
  return o;
}

/**
 * Opens a reader of the WAL in `dir` whose first batch starts at `fromSeq`. Throws
 * {@link WalSeqRetiredError} when retention already removed `fromSeq` (read it from the store).
 */
export function openWalReader(dir: string, fromSeq: number, options?: WalReaderOptions): WalReader {
  checkInt("fromSeq", fromSeq, 1, Number.MAX_SAFE_INTEGER, StorageOptionError);
  return new WalReader(dir, fromSeq, parseReaderOptions(options));
}

/** A forward reader of the WAL; see {@link openWalReader}. */
export class WalReader {
  private readonly buf: Buffer;
  private readonly offsets: Int32Array;
  private readonly state = newScanState();
  private fd = -1;
  private file = "";
  private segFirstSeq = 0;
  private bufFilePos = 0; // file offset of buf[0]
  private filled = 0;
  private pos = 0; // next unread record in buf
  private skip = 0; // records to pass over before the first batch (seek inside a segment)
  private _nextSeq: number;
  private closed = false;
  private idlePolls = 0;
  /** Holes recorded in the directory (only an offline repair records one: read once, refreshed on listings). */
  private holes: WalHole[];
  /** A bad record met at the read position, dealt with before anything after it is read. */
  private damage: { offset: number; reason: string } | null = null;
  /** What proved the current segment sealed, between the read that found its end and the one that confirms it. */
  private sealedNext: "next" | number | null = null;

  /** @internal use {@link openWalReader}. */
  constructor(
    private readonly dir: string,
    fromSeq: number,
    private readonly opts: ResolvedReaderOptions,
  ) {
    this.buf = Buffer.allocUnsafe(opts.bufferBytes);
    this.offsets = new Int32Array(Math.min(opts.maxFrames, opts.bufferBytes >>> 4));
    this._nextSeq = fromSeq;
    this.holes = listHoles(dir);
    const segments = listSegments(dir);
    if (segments.length === 0 || fromSeq < segments[0].firstSeq) {
      // Nothing yet (wait for the first segment), or a hole reaching the first segment: crossed when read.
      const hole = holeCovering(this.holes, fromSeq);
      if (segments.length === 0 || (hole !== undefined && hole.to + 1 >= segments[0].firstSeq)) return;
      throw new WalSeqRetiredError(fromSeq, segments[0].firstSeq);
    }
    let i = segments.length - 1;
    while (segments[i].firstSeq > fromSeq) i--;
    this.openSegment(segments[i].file, segments[i].firstSeq, fromSeq);
  }

  /** Seq of the first frame the next batch will hold. */
  get nextSeq(): number {
    return this._nextSeq;
  }

  /**
   * The next batch, or null when caught up with the writer or at `maxSeq` (call again later). Synchronous
   * reads: the fast path for replay from the page cache.
   */
  nextSync(maxSeq = Number.MAX_SAFE_INTEGER): FrameBatch | null {
    for (let got: number | null = null; ; got = this.fillSync()) {
      const r = this.advance(maxSeq, got);
      if (r !== NEED_BYTES) return r;
    }
  }

  /** The next batch, or null when caught up or at `maxSeq` (call again later). Reads on the libuv pool. */
  async next(maxSeq = Number.MAX_SAFE_INTEGER): Promise<FrameBatch | null> {
    for (let got: number | null = null; ; got = await this.fillAsync()) {
      const r = this.advance(maxSeq, got);
      if (r !== NEED_BYTES) return r;
    }
  }

  /**
   * The reading logic of {@link nextSync} and {@link next}, which differ only in how they read the file:
   * returns a batch or null to hand out, or NEED_BYTES to have the file read and be called again with the
   * bytes that read got (`got`; null on a call's first step).
   */
  private advance(maxSeq: number, got: number | null): FrameBatch | null | typeof NEED_BYTES {
    if (got === 0) {
      if (this.sealedNext === null) {
        // Nothing more in the file: sealed (read once more, to be sure it is complete), or caught up.
        this.sealedNext = this.sealedBy();
        return this.sealedNext === null ? null : NEED_BYTES;
      }
      const next = this.sealedNext;
      this.sealedNext = null;
      this.leaveSealedSegment(next);
    } else if (got !== null) {
      this.sealedNext = null;
    }
    for (;;) {
      if (this._nextSeq + this.skip > maxSeq) return null;
      const batch = this.take(maxSeq);
      if (batch !== null) return batch;
      if (this.damage !== null) {
        this.skipDamage();
        continue;
      }
      if (this.fd < 0) {
        if (!this.enterNextSegment()) return null;
        continue;
      }
      return NEED_BYTES;
    }
  }

  /** Closes the file; further calls throw `ERR_WAL_CLOSED`. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.closed = true;
  }

  /**
   * Parses buffered records into a batch; null when more bytes are needed, or when the next record is bad
   * (then `damage` is set: the records before it were returned first).
   */
  private take(maxSeq: number): FrameBatch | null {
    if (this.closed) throw new ClosedError("ERR_WAL_CLOSED", "WAL reader");
    if (this.fd < 0) return null;
    const st = this.state;
    while (this.skip > 0) {
      scanRecords(this.buf, this.pos, this.filled, this.opts.verifyCrc, null, this.skip, st);
      this.pos = st.pos;
      this.skip -= st.count;
      this._nextSeq += st.count;
      if (this.noteDamage()) return null;
      if (st.stop !== ScanStop.Full && this.skip > 0) return null;
    }
    const room = Math.min(this.offsets.length, maxSeq - this._nextSeq + 1);
    scanRecords(this.buf, this.pos, this.filled, this.opts.verifyCrc, this.offsets, room, st);
    if (st.count === 0) {
      this.noteDamage();
      return null;
    }
    this.pos = st.pos;
    const firstSeq = this._nextSeq;
    this._nextSeq += st.count;
    return {
      bytes: this.buf,
      offsets: this.offsets.subarray(0, st.count),
      count: st.count,
      firstSeq,
      lastSeq: firstSeq + st.count - 1,
    };
  }

  /** Records the bad record the last scan stopped at, if it did; true when it did. */
  private noteDamage(): boolean {
    if (this.state.stop !== ScanStop.Corrupt) return false;
    this.damage = { offset: this.bufFilePos + this.state.pos, reason: this.state.reason };
    return true;
  }

  /** Deals with the bad record at the read position: throws, or skips to what follows its sealed segment. */
  private skipDamage(): void {
    const { offset, reason } = this.damage!;
    this.damage = null;
    const err = new WalCorruptError(this.file, offset, reason);
    const next = this.opts.onGap === undefined ? null : this.startAfterSegment();
    // No gap listener, or the segment being written (nothing after it yet): a bad record is an error.
    if (next === null) throw err;
    this.jumpTo(next, err);
  }

  /** Leaves the current segment for seq `nextStart`, telling `onGap` about the wanted seqs before it. */
  private jumpTo(nextStart: number, cause: StorageError): void {
    const want = this._nextSeq + this.skip;
    closeSync(this.fd);
    this.fd = -1;
    if (want < nextStart) this.opts.onGap!(want, nextStart - 1, "unreadable", cause);
    this._nextSeq = nextStart;
    this.skip = Math.max(0, want - nextStart);
  }

  /**
   * The first seq of what follows the current segment (the next segment, or a hole recorded after it), from
   * a fresh listing; null when nothing does (it is the segment being written).
   */
  private startAfterSegment(): number | null {
    this.holes = listHoles(this.dir);
    let next = Number.MAX_SAFE_INTEGER;
    for (const s of listSegments(this.dir))
      if (s.firstSeq > this.segFirstSeq) next = Math.min(next, s.firstSeq);
    for (const h of this.holes) if (h.from > this.segFirstSeq) next = Math.min(next, h.from);
    return next === Number.MAX_SAFE_INTEGER ? null : next;
  }

  /** Moves unread bytes to the front of the buffer; returns where the next read goes. */
  private compact(): void {
    if (this.pos === 0) return;
    this.buf.copyWithin(0, this.pos, this.filled);
    this.bufFilePos += this.pos;
    this.filled -= this.pos;
    this.pos = 0;
  }

  private fillSync(): number {
    this.compact();
    const n = readSync(
      this.fd,
      this.buf,
      this.filled,
      this.buf.length - this.filled,
      this.bufFilePos + this.filled,
    );
    this.filled += n;
    return n;
  }

  private fillAsync(): Promise<number> {
    this.compact();
    return new Promise((resolve, reject) => {
      read(
        this.fd,
        this.buf,
        this.filled,
        this.buf.length - this.filled,
        this.bufFilePos + this.filled,
        (err, n) => {
          if (err) reject(err);
          else {
            this.filled += n;
            resolve(n);
          }
        },
      );
    });
  }

  /**
   * What proves the current segment sealed: `"next"` when the file for the next seq (or a hole record there)
   * exists — the writer creates it after its last write to the current one, so once it exists one more read
   * of the current file that finds nothing proves it complete (the callers do that read); a later segment's
   * first seq when the current one ended early and a later segment exists (checked now and then, not on every
   * poll); null when it may still grow (caught up with the writer).
   */
  private sealedBy(): "next" | number | null {
    // An empty current segment has the name the next one would have: it is not a next one.
    const next = segmentPath(this.dir, this._nextSeq);
    if ((next !== this.file && existsSync(next)) || holeCovering(this.holes, this._nextSeq) !== undefined) {
      return "next";
    }
    // Caught up, or a segment is missing: list the directory now and then (not on every poll) to tell.
    if (++this.idlePolls % GAP_CHECK_EVERY === 0) {
      this.holes = listHoles(this.dir);
      if (holeCovering(this.holes, this._nextSeq) !== undefined) return "next";
      const later = listSegments(this.dir).find((s) => s.firstSeq > this._nextSeq);
      // The writer fills the old file before creating a new one: once `later` exists, the old file's size is final.
      if (later !== undefined && fstatSync(this.fd).size <= this.bufFilePos + this.filled)
        return later.firstSeq;
    }
    return null;
  }

  /** Leaves a sealed, fully read segment for what follows it (see {@link sealedBy}). */
  private leaveSealedSegment(next: "next" | number): void {
    if (this.filled > this.pos) {
      this.damage = { offset: this.bufFilePos + this.pos, reason: "sealed segment ends inside a record" };
      return;
    }
    if (next !== "next") {
      // Ends early: the seqs up to the later segment have no record.
      const want = this._nextSeq + this.skip;
      if (want >= next) {
        // None of them is wanted: go on in the later segment.
        closeSync(this.fd);
        this.fd = -1;
        this._nextSeq = next;
        this.skip = want - next;
        return;
      }
      const err = new WalGapError(this.dir, want, next);
      if (this.opts.onGap === undefined) throw err;
      this.jumpTo(next, err);
      return;
    }
    closeSync(this.fd);
    this.fd = -1;
    this.enterNextSegment();
  }

  /** Opens the segment of the next seq, crossing recorded holes; false when it does not exist yet. */
  private enterNextSegment(): boolean {
    for (;;) {
      const file = segmentPath(this.dir, this._nextSeq);
      if (existsSync(file)) {
        // A reader asked for a seq past the end carries its skip into the next segment.
        this.openSegment(file, this._nextSeq, this._nextSeq + this.skip);
        return true;
      }
      const hole = holeCovering(this.holes, this._nextSeq);
      if (hole === undefined) return false;
      const want = this._nextSeq + this.skip;
      if (want <= hole.to) {
        const err = new WalGapError(this.dir, want, hole.to + 1, hole.file);
        if (this.opts.onGap === undefined) throw err;
        this.opts.onGap(want, hole.to, "lost", err);
      }
      this._nextSeq = hole.to + 1;
      this.skip = Math.max(0, want - this._nextSeq);
    }
  }

  /** Opens `file` and positions before the record of seq `seq`, via the sparse index where it helps. */
  private openSegment(file: string, firstSeq: number, seq: number): void {
    this.fd = openSync(file, "r");
    this.file = file;
    this.segFirstSeq = firstSeq;
    this.filled = 0;
    this.pos = 0;
    let atSeq = firstSeq;
    let atOffset = 0;
    if (seq > firstSeq) {
      const hint = this.indexHint(file, firstSeq, seq);
      if (hint !== null) {
        atSeq = hint[0];
        atOffset = hint[1];
      }
    }
    this.bufFilePos = atOffset;
    this._nextSeq = atSeq;
    this.skip = seq - atSeq;
  }
  /** The last index entry at or below `seq` whose record checks out, as [seq, offset]; else null. */
  private indexHint(file: string, firstSeq: number, seq: number): [number, number] | null {
    let idx: Buffer;
    try {
      idx = readFileSync(indexPathOf(file));
    } catch {
      return null;
    }
    let best = -1;
    for (let i = 0; i < entryCount(idx.length); i++) {
      if (firstSeq + idx.readUInt32LE(seqDeltaOffset(i)) <= seq) best = i;
      else break;
    }
    if (best < 0) return null;
    const hintSeq = firstSeq + idx.readUInt32LE(seqDeltaOffset(best));
    const offset = idx.readUInt32LE(recordOffsetOffset(best));
    if (offset >= fstatSync(this.fd).size) return null;
    const n = readSync(this.fd, this.buf, 0, MAX_RECORD_LENGTH, offset);
    scanRecords(this.buf, 0, n, true, null, 1, this.state);
    if (this.state.count !== 1 || frameSeq(this.buf, frameOffset(0)) !== hintSeq) return null;
    return [hintSeq, offset];
  }
}
