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
 * the file for the next seq exists — the writer creates it after its last write to the old one, so one more
 * read of the old file after seeing the new one cannot miss a record. CRCs are verified as records are read;
 * a bad record throws {@link WalCorruptError} with file and offset (run `Wal.open` first: it cuts a torn tail).
 */
import { closeSync, existsSync, fstatSync, openSync, read, readFileSync, readSync } from "node:fs";
import { checkInt, stripUndefined } from "../../config/checks.js";
import { frameSeq } from "../../frame/codec.js";
import {
  ClosedError,
  StorageOptionError,
  WalCorruptError,
  WalGapError,
  WalSeqRetiredError,
} from "../errors.js";
import { indexPathOf, listSegments, segmentPath } from "./files.js";
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

/** Options of {@link openWalReader}. */
export interface WalReaderOptions {
  /** Read buffer; a batch never exceeds it. At least 2 × the largest record. @default 1 MiB */
  bufferBytes?: number;
  /** Most frames in one batch. @default 65536 */
  maxFrames?: number;
  /** Verify each record's CRC32C as it is read. @default true */
  verifyCrc?: boolean;
}

/** Polls at the end of the data between two checks for a missing segment. */
const GAP_CHECK_EVERY = 64;

const READER_DEFAULTS: Required<WalReaderOptions> = {
  bufferBytes: 1 << 20,
  maxFrames: 65536,
  verifyCrc: true,
};

function parseReaderOptions(options: WalReaderOptions | undefined): Required<WalReaderOptions> {
  const o = { ...READER_DEFAULTS, ...stripUndefined(options ?? {}) };
  checkInt("bufferBytes", o.bufferBytes, 2 * MAX_RECORD_LENGTH, 2 ** 30, StorageOptionError);
  checkInt("maxFrames", o.maxFrames, 1, 2 ** 24, StorageOptionError);
  if (typeof o.verifyCrc !== "boolean") throw new StorageOptionError("verifyCrc", o.verifyCrc, "a boolean");
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
  private bufFilePos = 0; // file offset of buf[0]
  private filled = 0;
  private pos = 0; // next unread record in buf
  private skip = 0; // records to pass over before the first batch (seek inside a segment)
  private _nextSeq: number;
  private closed = false;
  private idlePolls = 0;

  /** @internal use {@link openWalReader}. */
  constructor(
    private readonly dir: string,
    fromSeq: number,
    private readonly opts: Required<WalReaderOptions>,
  ) {
    this.buf = Buffer.allocUnsafe(opts.bufferBytes);
    this.offsets = new Int32Array(Math.min(opts.maxFrames, opts.bufferBytes >>> 4));
    this._nextSeq = fromSeq;
    const segments = listSegments(dir);
    if (segments.length === 0) return; // an empty WAL: wait for the first segment
    if (fromSeq < segments[0].firstSeq) throw new WalSeqRetiredError(fromSeq, segments[0].firstSeq);
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
    for (;;) {
      if (this._nextSeq + this.skip > maxSeq) return null;
      const batch = this.take(maxSeq);
      if (batch !== null) return batch;
      if (this.fd < 0 && !this.enterNextSegment()) return null;
      if (this.fillSync() > 0) continue;
      if (!this.nextSegmentExists()) return null;
      if (this.fillSync() > 0) continue;
      this.leaveSealedSegment();
    }
  }

  /** The next batch, or null when caught up or at `maxSeq` (call again later). Reads on the libuv pool. */
  async next(maxSeq = Number.MAX_SAFE_INTEGER): Promise<FrameBatch | null> {
    for (;;) {
      if (this._nextSeq + this.skip > maxSeq) return null;
      const batch = this.take(maxSeq);
      if (batch !== null) return batch;
      if (this.fd < 0 && !this.enterNextSegment()) return null;
      if ((await this.fillAsync()) > 0) continue;
      if (!this.nextSegmentExists()) return null;
      if ((await this.fillAsync()) > 0) continue;
      this.leaveSealedSegment();
    }
  }

  /** Closes the file; further calls throw `ERR_WAL_CLOSED`. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.closed = true;
  }

  /** Parses buffered records into a batch; null when more bytes are needed. */
  private take(maxSeq: number): FrameBatch | null {
    if (this.closed) throw new ClosedError("ERR_WAL_CLOSED", "WAL reader");
    if (this.fd < 0) return null;
    const st = this.state;
    while (this.skip > 0) {
      scanRecords(this.buf, this.pos, this.filled, this.opts.verifyCrc, null, this.skip, st);
      this.checkCorrupt();
      this.pos = st.pos;
      this.skip -= st.count;
      this._nextSeq += st.count;
      if (st.stop !== ScanStop.Full && this.skip > 0) return null;
    }
    const room = Math.min(this.offsets.length, maxSeq - this._nextSeq + 1);
    scanRecords(this.buf, this.pos, this.filled, this.opts.verifyCrc, this.offsets, room, st);
    this.checkCorrupt();
    if (st.count === 0) return null;
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

  private checkCorrupt(): void {
    if (this.state.stop === ScanStop.Corrupt) {
      throw new WalCorruptError(this.file, this.bufFilePos + this.state.pos, this.state.reason);
    }
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
   * The writer creates the next segment only after its last write to the current one. So once the next file
   * exists, one more read of the current file that finds nothing proves it sealed (the callers do that read).
   */
  private nextSegmentExists(): boolean {
    // An empty current segment has the name the next one would have: it is not a next one.
    const next = segmentPath(this.dir, this._nextSeq);
    if (next !== this.file && existsSync(next)) return true;
    // Caught up, or a segment is missing: list the directory now and then (not on every poll) to tell.
    if (++this.idlePolls % GAP_CHECK_EVERY === 0) {
      const later = listSegments(this.dir).find((s) => s.firstSeq > this._nextSeq + this.skip);
      // The writer fills the old file before creating a new one: once `later` exists, the old file's size is final.
      if (later !== undefined && fstatSync(this.fd).size <= this.bufFilePos + this.filled) {
        throw new WalGapError(this.dir, this._nextSeq + this.skip, later.firstSeq);
      }
    }
    return false;
  }

  /** Leaves a sealed, fully read segment for the next one. */
  private leaveSealedSegment(): void {
    if (this.filled > this.pos) {
      throw new WalCorruptError(this.file, this.bufFilePos + this.pos, "sealed segment ends inside a record");
    }
    closeSync(this.fd);
    this.fd = -1;
    this.enterNextSegment();
  }

  private enterNextSegment(): boolean {
    const file = segmentPath(this.dir, this._nextSeq);
    if (!existsSync(file)) return false;
    // A reader asked for a seq past the end carries its skip into the next segment.
    this.openSegment(file, this._nextSeq, this._nextSeq + this.skip);
    return true;
  }

  /** Opens `file` and positions before the record of seq `seq`, via the sparse index where it helps. */
  private openSegment(file: string, firstSeq: number, seq: number): void {
    this.fd = openSync(file, "r");
    this.file = file;
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
