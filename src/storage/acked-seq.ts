/**
 * The highest seq ever acked, kept in `<data>/acked-seq`, apart from the WAL: so that a start can tell when
 * the WAL lost acked ticks (its end is below this mark — a corrupt tail cut, a power loss under `--fsync os`)
 * and refuse instead of handing their seqs out again, and so that after `tickring wal repair` gives them up
 * the next seq is still above every seq ever acked.
 *
 * The daemon persists the WAL's durable seq (what its acks wait for) every few hundred ms and at close. So
 * the mark may lag the last acks by that much: it is a floor of what was acked, never above what was durable.
 *
 * Layout: two 16-byte slots written alternately in place — never a new block, so it works on a full disk —
 * each `seq (u64 LE) | magic "TKAS" | CRC32C of the 12 bytes before`, each write fdatasynced. The value is
 * the larger valid slot: a write torn by a crash leaves the other slot, the previous value.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync, readSync, write, writeSync } from "node:fs";
import { dirname } from "node:path";
import { crc32c } from "@node-rs/crc32";
import { syncDirSync } from "./make-dir.js";

const SLOT_BYTES = 16;
const SEQ_OFFSET = 0;
const MAGIC_OFFSET = 8;
const CRC_OFFSET = 12;
const MAGIC = 0x53414b54; // "TKAS" read as u32 LE

/** What {@link readAckedSeq} found. */
export interface AckedSeqReading {
  /** The highest acked seq recorded; 0 when there is no record. */
  seq: number;
  /** True when the file exists but neither slot is valid (the mark is then unknown, read as 0). */
  damaged: boolean;
}

/** Reads the mark in `file` without opening it for writing (0 when the file does not exist). */
export function readAckedSeq(file: string): AckedSeqReading {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { seq: 0, damaged: false };
    throw err;
  }
  try {
    const buf = Buffer.alloc(2 * SLOT_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const a = slotValue(buf, 0, n);
    const b = slotValue(buf, SLOT_BYTES, n);
    return { seq: Math.max(a, b, 0), damaged: a < 0 && b < 0 };
  } finally {
    closeSync(fd);
  }
}

/** The seq in the slot at `at`, or -1 when it is not a valid slot. */
function slotValue(buf: Buffer, at: number, length: number): number {
  if (at + SLOT_BYTES > length) return -1;
  if (buf.readUInt32LE(at + MAGIC_OFFSET) !== MAGIC) return -1;
  if (crc32c(buf.subarray(at, at + CRC_OFFSET)) !== buf.readUInt32LE(at + CRC_OFFSET)) return -1;
  return buf.readUInt32LE(at + SEQ_OFFSET) + buf.readUInt32LE(at + SEQ_OFFSET + 4) * 0x1_0000_0000;
}

/** The mark, open for writing by the process holding the data directory. */
export class AckedSeqFile {
  private _seq: number;
  /** The highest value asked for; what the next write in the chain writes. */
  private requested: number;
  /** Writes run one after another on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private readonly buf = Buffer.alloc(SLOT_BYTES);
  private timer: NodeJS.Timeout | undefined;
  private source: (() => number) | undefined;
  private closed = false;

  private constructor(
    /** The file (`<data>/acked-seq`). */
    readonly file: string,
    private readonly fd: number,
    seq: number,
    /** The slot the next write goes to: never the one holding the current value. */
    private slot: number,
  ) {
    this._seq = seq;
    this.requested = seq;
  }

  /**
   * Opens the mark in `file`, creating it (holding 0, durably) when absent. Only the process holding the
   * data directory's lock may.
   */
  static open(file: string): AckedSeqFile {
    let fd: number;
    try {
      fd = openSync(file, "r+");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fd = openSync(file, "w+");
      const mark = new AckedSeqFile(file, fd, 0, 0);
      mark.fill(0);
      writeSync(fd, mark.buf, 0, SLOT_BYTES, 0);
      writeSync(fd, mark.buf, 0, SLOT_BYTES, SLOT_BYTES);
      fdatasyncSync(fd);
      syncDirSync(dirname(file));
      return mark;
    }
    const buf = Buffer.alloc(2 * SLOT_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const a = slotValue(buf, 0, n);
    const b = slotValue(buf, SLOT_BYTES, n);
    return new AckedSeqFile(file, fd, Math.max(a, b, 0), a >= b ? 1 : 0);
  }

  /** The highest seq persisted. */
  get seq(): number {
    return this._seq;
  }

  /**
   * Persists `seq` if it is above the mark: one positional write and one fdatasync, on the libuv pool. One
   * write at a time; values given meanwhile are coalesced into the next. Resolves once `seq` (or more) is
   * durable; rejects when that write fails (the mark stays where it was: a later call tries again).
   */
  persist(seq: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.file} is closed`));
    if (seq <= this._seq) return Promise.resolve();
    this.requested = Math.max(this.requested, seq);
    const run = this.chain.then(() => this.writeRequested());
    this.chain = run.catch(() => {});
    return run;
  }

  /** Persists `seq` now, synchronously (for a close without an event loop turn to spare). */
  persistSync(seq: number): void {
    if (seq <= this._seq) return;
    this.fill(seq);
    writeSync(this.fd, this.buf, 0, SLOT_BYTES, this.slot * SLOT_BYTES);
    fdatasyncSync(this.fd);
    this.slot ^= 1;
    this._seq = seq;
    this.requested = Math.max(this.requested, seq);
  }

  /**
   * Lowers the mark to `seq`, durably, now: a replica gives up a tail of its own that the replicated log
   * replaced (src/replication) — the log's frames take those seqs, so they are no longer this node's to
   * keep. Both slots are written (the value read is the larger valid one), each fdatasynced: a crash
   * between them leaves the old mark, and the cut is made again. Call it before anything follows the mark.
   */
  lowerTo(seq: number): void {
    if (seq >= this._seq) return;
    this.fill(seq);
    for (const slot of [this.slot, this.slot ^ 1]) {
      writeSync(this.fd, this.buf, 0, SLOT_BYTES, slot * SLOT_BYTES);
      fdatasyncSync(this.fd);
    }
    this._seq = seq;
    this.requested = seq;
  }

  /**
   * Persists `source()` every `everyMs` (an unref'd timer) until {@link close}, which persists it a last
   * time. A failed write is tried again at the next tick: the mark only lags meanwhile.
   */
  follow(source: () => number, everyMs = 200): void {
    this.source = source;
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.persist(source()).catch(() => {});
    }, everyMs);
    this.timer.unref();
  }

  /** Stops following, persists the source's last value, waits for the writes, closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    try {
      if (this.source !== undefined) await this.persist(this.source());
      await this.chain;
    } finally {
      this.closed = true;
      closeSync(this.fd);
    }
  }

  /** Writes the highest value asked for, unless an earlier write in the chain already did. */
  private async writeRequested(): Promise<void> {
    const seq = this.requested;
    if (seq <= this._seq) return;
    this.fill(seq);
    const slot = this.slot;
    await new Promise<void>((resolve, reject) =>
      write(this.fd, this.buf, 0, SLOT_BYTES, slot * SLOT_BYTES, (err) => (err ? reject(err) : resolve())),
    );
    await new Promise<void>((resolve, reject) =>
      fdatasync(this.fd, (err) => (err ? reject(err) : resolve())),
    );
    this.slot = slot ^ 1;
    this._seq = seq;
  }

  private fill(seq: number): void {
    const b = this.buf;
    const hi = Math.floor(seq / 0x1_0000_0000);
    b.writeUInt32LE(seq - hi * 0x1_0000_0000, SEQ_OFFSET);
    b.writeUInt32LE(hi, SEQ_OFFSET + 4);
    b.writeUInt32LE(MAGIC, MAGIC_OFFSET);
    b.writeUInt32LE(crc32c(b.subarray(0, CRC_OFFSET)), CRC_OFFSET);
  }
}
