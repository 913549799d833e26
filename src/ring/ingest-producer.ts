/**
 * The socket worker's end of an ingest ring (layout: ingest-layout.ts): copies each accepted publisher
 * message in as one record, and reads the sequencer's answers back out of the records it answered.
 */
import {
  ANSWER_FIELD,
  CAPACITY_INDEX,
  CONN_FIELD,
  CONSUMER_ASLEEP_INDEX,
  COUNT_FIELD,
  FRAMES_FIELD,
  HEAD_INDEX,
  HEADER_LENGTH,
  ingestRecordLength,
  LENGTH_FIELD,
  NEWS_INDEX,
  NO_ANSWER,
  PADDING_FLAG,
  PRODUCER_ASLEEP_INDEX,
  TAIL_INDEX,
} from "./ingest-layout.js";
import { sleepUntilChanged } from "./wait.js";

export class IngestRingProducer {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly capacity: number;
  private readonly mask: number;
  /** Position after the last record written. */
  private tail: number;
  /** Position after the last record whose answer this end has read. */
  private answered: number;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_LENGTH / 4);
    this.capacity = Atomics.load(this.header, CAPACITY_INDEX) >>> 0;
    this.mask = this.capacity - 1;
    this.bytes = new Uint8Array(buffer, HEADER_LENGTH, this.capacity);
    this.view = new DataView(buffer, HEADER_LENGTH, this.capacity);
    this.tail = Atomics.load(this.header, TAIL_INDEX);
    this.answered = this.tail;
  }

  /** The longest message {@link tryAppend} can ever take. */
  get maxFrameBytes(): number {
    return this.capacity / 4 - FRAMES_FIELD;
  }

  /** Whether messages wait for an answer. */
  get inFlight(): boolean {
    return this.tail !== this.answered;
  }

  /**
   * Copies `frames[0…length)` (`count` frames of connection `conn`) in as one record and wakes the sequencer
   * if it sleeps; false, writing nothing, when the ring has no room until answers are read.
   */
  tryAppend(conn: number, frames: Uint8Array, length: number, count: number): boolean {
    const len = ingestRecordLength(length);
    let offset = this.tail & this.mask;
    const toEnd = this.capacity - offset;
    const need = len > toEnd ? toEnd + len : len;
    if (((this.tail - this.answered) | 0) + need > this.capacity) return false;
    if (len > toEnd) {
      // Records never straddle the end: pad to it, and start at 0.
      this.view.setUint32(offset + LENGTH_FIELD, (toEnd | PADDING_FLAG) >>> 0, true);
      this.tail = (this.tail + toEnd) | 0;
      offset = 0;
    }
    const v = this.view;
    v.setUint32(offset + LENGTH_FIELD, len, true);
    v.setUint32(offset + COUNT_FIELD, count, true);
    v.setFloat64(offset + CONN_FIELD, conn, true);
    v.setFloat64(offset + ANSWER_FIELD, NO_ANSWER, true);
    this.bytes.set(frames.subarray(0, length), offset + FRAMES_FIELD);
    this.tail = (this.tail + len) | 0;
    Atomics.store(this.header, TAIL_INDEX, this.tail);
    if (Atomics.load(this.header, CONSUMER_ASLEEP_INDEX) !== 0) Atomics.notify(this.header, TAIL_INDEX);
    return true;
  }

  /**
   * Visits, oldest first, the answer of every record the sequencer answered since the last call (a seq
   * > 0, or −(1 + an error code's index)), and frees their bytes. Returns how many.
   */
  takeAnswers(visit: (conn: number, answer: number) => void): number {
    const head = Atomics.load(this.header, HEAD_INDEX);
    let n = 0;
    while (this.answered !== head) {
      const offset = this.answered & this.mask;
      const word = this.view.getUint32(offset + LENGTH_FIELD, true);
      if ((word & PADDING_FLAG) !== 0) {
        this.answered = (this.answered + (word & ~PADDING_FLAG)) | 0;
        continue;
      }
      visit(
        this.view.getFloat64(offset + CONN_FIELD, true),
        this.view.getFloat64(offset + ANSWER_FIELD, true),
      );
      this.answered = (this.answered + word) | 0;
      n++;
    }
    return n;
  }

  /** The news counter: it changes whenever the sequencer answers or more becomes durable. */
  news(): number {
    return Atomics.load(this.header, NEWS_INDEX);
  }

  /** Resolves once the news counter differs from `seen` (at once if it already does). */
  awaitNews(seen: number): Promise<void> {
    return sleepUntilChanged(this.header, NEWS_INDEX, seen, PRODUCER_ASLEEP_INDEX);
  }
}
