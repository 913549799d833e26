/**
 * A reader of the shared-memory broadcast ring (layout in `layout.ts`), one per consumer,
 * in any thread.
 *
 * Modelled on Agrona's BroadcastReceiver: the reader owns its cursor, compares it with the writer's
 * `tailIntent` before and after reading, and reports a lap instead of ever handing out bytes that may be
 * torn. Records come out in runs — contiguous whole records, padding skipped, never across the end of the
 * data region — so a run is a ready WebSocket payload of several frames.
 *
 * Limits, both beyond what positions can tell:
 * - The after-read re-check needs the plain reads of the record to complete before the `Atomics.load` of
 *   `tailIntent`. JavaScript has no load fence (Agrona uses one); x86-64 never reorders loads with loads and
 *   V8 does not move typed-array loads across Atomics operations, but a weakly ordered CPU (arm64) could in
 *   principle let a torn read pass.
 * - Positions are 32-bit: a reader that sleeps while the writer writes a multiple of 4 GiB sees its cursor
 *   as current. Size words that cannot be frames are then reported as a lap; anything else is not caught.
 */
import { frameSeq } from "../frame/codec.js";
import {
  CAPACITY_INDEX,
  capacityOf,
  frameRecordLength,
  HEADER_LENGTH,
  isPadding,
  RECORD_ALIGNMENT,
  SIZE_OF_INT,
  TAIL_INDEX,
  TAIL_INTENT_INDEX,
  WAITERS_INDEX,
} from "./layout.js";
import { waitAsync } from "./wait.js";

/** `poll` found nothing new. */
export const POLL_EMPTY = 0;
/** `poll` set `runStart`, `runEnd` and `runCount` to a run of new records. */
export const POLL_RUN = 1;
/** `poll` found that the writer lapped the reader: frames from `lostFromSeq` on were lost. */
export const POLL_LAPPED = 2;
/** What {@link RingReader.poll} returns. */
export type PollResult = typeof POLL_EMPTY | typeof POLL_RUN | typeof POLL_LAPPED;

/** Options of a {@link RingReader}. */
export interface RingReaderOptions {
  /**
   * Where the reader starts: `"tail"` delivers only frames published from now on; `"oldest"` starts at the
   * oldest record it can locate (everything if the ring has not wrapped; otherwise the start of the
   * writer's current lap, or the whole previous lap when the tail sits exactly at offset 0).
   * @default "tail"
   */
  start?: "tail" | "oldest";
}

const START_MODES = ["tail", "oldest"];
/** Tries to find a settled tail at construction before giving up on knowing the seq before the start. */
const LOCATE_ATTEMPTS = 1000;

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Reads the ring from its own cursor. Not thread-safe: one reader per consumer.
 *
 * Use: `poll()`; on {@link POLL_RUN} use `bytes.subarray(runStart, runEnd)` (for instance send it), then
 * call {@link runIntact}; when it says false the bytes used may be torn: discard what they produced, and the
 * next poll reports the loss as {@link POLL_LAPPED}.
 */
export class RingReader {
  /** A view over the data region; `runStart` and `runEnd` index into it. */
  readonly bytes: Uint8Array;
  /** Bytes of the data region. */
  readonly capacity: number;
  /** Offset in `bytes` of the first record of the last run. */
  runStart = 0;
  /** Offset in `bytes` just past the last record of the last run. */
  runEnd = 0;
  /** Records in the last run. */
  runCount = 0;
  /** After {@link POLL_LAPPED}: the first seq the reader did not deliver (`lastSeq + 1`). */
  lostFromSeq = 0;
  /** Seq of the last delivered frame that has one (heartbeats, seq 0, leave it as it was). */
  lastSeq = 0;

  private readonly header: Int32Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  private cursor = 0;
  /** Position of the last run's first record. */
  private runPosition = 0;
  /** `lastSeq` before the last run, restored when that run turns out torn. */
  private runPreviousSeq = 0;
  private lapPending = false;
  private readonly onWoken = (): void => this.removeWaiter();

  /**
   * Attaches to a ring a {@link RingWriter} created.
   * @throws RangeError when `buffer` is not an initialised ring or `options.start` is unknown.
   */
  constructor(buffer: SharedArrayBuffer, options: RingReaderOptions = {}) {
    const capacity = capacityOf(buffer);
    const start = options.start ?? "tail";
    if (!START_MODES.includes(start))
      throw new RangeError(`ring reader start must be tail or oldest: ${start}`);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.header = new Int32Array(buffer, 0, HEADER_LENGTH / SIZE_OF_INT);
    this.bytes = new Uint8Array(buffer, HEADER_LENGTH, capacity);
    this.words = new Int32Array(buffer, HEADER_LENGTH, capacity / SIZE_OF_INT);
    const recorded = Atomics.load(this.header, CAPACITY_INDEX);
    if (recorded !== capacity) {
      throw new RangeError(`ring buffer not initialised by a RingWriter: header capacity=${recorded}`);
    }
    this.locate(start);
  }

  /**
   * Looks for new records. On {@link POLL_RUN} sets `runStart`, `runEnd`, `runCount` (at most `maxBytes`
   * unless a single record is longer) and moves the cursor past them; on {@link POLL_LAPPED} sets
   * `lostFromSeq` and moves the cursor to the writer's tail.
   */
  poll(maxBytes = 64 * 1024): PollResult {
    if (this.lapPending) return this.lapped();
    const start = this.cursor;
    const tail = this.loadTail();
    const available = (tail - start) | 0;
    if (available === 0) return POLL_EMPTY;
    if (available < 0 || available > this.capacity || !this.intact(start)) return this.lapped();

    let position = start;
    let offset = position & this.mask;
    if (isPadding(this.words[offset >> 2])) {
      position = (position + this.capacity - offset) | 0;
      offset = 0;
    }
    const stop = offset + Math.min((tail - position) | 0, this.capacity - offset);
    const budget = offset + maxBytes;
    const words = this.words;
    let end = offset;
    let last = offset;
    let count = 0;
    while (end < stop) {
      const word = words[end >> 2];
      if (isPadding(word)) break;
      const length = frameRecordLength(word);
      // A size word that cannot be a frame means the bytes changed under us: a lap the positions missed.
      if ((length & (RECORD_ALIGNMENT - 1)) !== 0 || end + length > stop) return this.lapped();
      if (end + length > budget && count > 0) break;
      last = end;
      end += length;
      count++;
    }
    if (count === 0) return this.lapped();
    let seq = frameSeq(this.bytes, last);
    if (seq === 0) seq = this.lastSeqOf(offset, end);
    // Seqlock check: the size words and the seq read above must predate any overwrite.
    if (!this.intact(start)) return this.lapped();

    this.runStart = offset;
    this.runEnd = end;
    this.runCount = count;
    this.runPosition = position;
    this.runPreviousSeq = this.lastSeq;
    if (seq !== 0) this.lastSeq = seq;
    this.cursor = (position + end - offset) | 0;
    return POLL_RUN;
  }

  /**
   * Whether the last run is still intact now, i.e. the writer has not begun to overwrite any of its bytes.
   * Call it after using the run's bytes: when it returns false they may have been torn while in use, and the
   * next `poll` reports a lap from the run's first seq.
   */
  runIntact(): boolean {
    if (this.intact(this.runPosition)) return true;
    this.lastSeq = this.runPreviousSeq;
    this.lapPending = true;
    return false;
  }

  /** Bytes the writer can still write before touching the last run; negative once it may have. */
  headroom(): number {
    return (this.runPosition + this.capacity - this.loadTailIntent()) | 0;
  }

  /** Bytes published but not yet polled. */
  lag(): number {
    return (this.loadTail() - this.cursor) >>> 0;
  }

  /** The reader's cursor (bytes since the ring's creation, wrapping at 2^32). */
  position(): number {
    return this.cursor >>> 0;
  }

  /**
   * Resolves when the writer publishes past the cursor (at once if it already has). For threads with an
   * event loop: it does not block, and a pending wait does not keep a worker alive.
   */
  awaitData(): Promise<void> {
    this.addWaiter();
    // Counted as a waiter before the tail is compared, so a publish in between either sees the count or
    // changes the tail that waitAsync compares: no lost wake-up.
    const result = waitAsync(this.header, TAIL_INDEX, this.cursor);
    if (!result.async) {
      this.removeWaiter();
      return RESOLVED;
    }
    return result.value.then(this.onWoken);
  }

  /**
   * Blocks the thread (`Atomics.wait`) until the writer publishes past the cursor or `timeoutMs` passes.
   * For threads without an event loop. Returns false on timeout.
   */
  waitData(timeoutMs: number): boolean {
    this.addWaiter();
    const result = Atomics.wait(this.header, TAIL_INDEX, this.cursor, timeoutMs);
    this.removeWaiter();
    return result !== "timed-out";
  }

  private lapped(): PollResult {
    this.lapPending = false;
    this.lostFromSeq = this.lastSeq + 1;
    this.cursor = this.loadTail();
    this.runPosition = this.cursor;
    this.runCount = 0;
    return POLL_LAPPED;
  }

  /** Whether bytes from `position` on are beyond the writer's reach so far. */
  private intact(position: number): boolean {
    return ((this.loadTailIntent() - position) | 0) <= this.capacity;
  }

  private loadTail(): number {
    return Atomics.load(this.header, TAIL_INDEX);
  }

  private loadTailIntent(): number {
    return Atomics.load(this.header, TAIL_INTENT_INDEX);
  }

  private addWaiter(): void {
    Atomics.add(this.header, WAITERS_INDEX, 1);
  }

  private removeWaiter(): void {
    Atomics.sub(this.header, WAITERS_INDEX, 1);
  }

  /** Last non-zero seq among the records in `[from, to)` of `bytes`, or 0 (a run of heartbeats). */
  private lastSeqOf(from: number, to: number): number {
    let seq = 0;
    for (let at = from; at < to; at += frameRecordLength(this.words[at >> 2])) {
      const s = frameSeq(this.bytes, at);
      if (s !== 0) seq = s;
    }
    return seq;
  }

  /**
   * Sets the cursor for `start` and `lastSeq` to the seq just before it, by walking the records from the
   * last boundary known without an index: offset 0 of the writer's current lap (or of the previous one when
   * the tail is exactly at offset 0).
   */
  private locate(start: "tail" | "oldest"): void {
    for (let attempt = 0; attempt < LOCATE_ATTEMPTS; attempt++) {
      const tail = this.loadTail();
      // A fresh ring (or, once in 2^32 bytes, one whose tail wrapped to exactly 0: lastSeq stays unknown).
      if (tail === 0) return;
      let from = tail & ~this.mask;
      if (from === tail) from = (tail - this.capacity) | 0;
      const walked = this.walkSeqs(from, tail);
      if (walked === undefined || !this.intact(from)) continue;
      this.cursor = start === "oldest" ? from : tail;
      this.lastSeq = start === "oldest" ? Math.max(0, walked.first - 1) : walked.last;
      return;
    }
    // The writer kept rewriting the lap we walked: start at the tail, not knowing the seq before it.
    this.cursor = this.loadTail();
  }

  /** First and last non-zero seq of the records in `[from, to)` (positions), or undefined if torn. */
  private walkSeqs(from: number, to: number): { first: number; last: number } | undefined {
    let first = 0;
    let last = 0;
    let offset = from & this.mask;
    const stop = offset + ((to - from) | 0);
    while (offset < stop && offset < this.capacity) {
      const word = this.words[offset >> 2];
      if (isPadding(word)) break;
      const length = frameRecordLength(word);
      if ((length & (RECORD_ALIGNMENT - 1)) !== 0 || offset + length > this.capacity) return undefined;
      const seq = frameSeq(this.bytes, offset);
      if (seq !== 0) {
        if (first === 0) first = seq;
        last = seq;
      }
      offset += length;
    }
    return { first, last };
  }
}
