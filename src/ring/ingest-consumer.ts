/**
 * The sequencer's end of an ingest ring (layout: ingest-layout.ts): hands each record's frames, in place, to
 * the sequencer, writes the answer into the record, and tells the worker.
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
  ingestRingBytes,
  LENGTH_FIELD,
  NEWS_INDEX,
  PADDING_FLAG,
  PRODUCER_ASLEEP_INDEX,
  TAIL_INDEX,
} from "./ingest-layout.js";
import { sleepUntilChanged } from "./wait.js";

/** Most records one {@link IngestRingConsumer.drain} answers together (bounds a group commit). */
const MAX_BATCH = 1024;

export class IngestRingConsumer {
  /** The shared memory: hand it to the worker. */
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly mask: number;
  private head: number;
  /** Offsets of the records of the batch being drained, to overwrite their answers after a failed commit. */
  private readonly batch = new Int32Array(MAX_BATCH);

  /** A new ring with a data region of `capacity` bytes (a power of two). */
  static allocate(capacity: number): IngestRingConsumer {
    const buffer = new SharedArrayBuffer(ingestRingBytes(capacity));
    Atomics.store(new Int32Array(buffer, 0, HEADER_LENGTH / 4), CAPACITY_INDEX, capacity);
    return new IngestRingConsumer(buffer);
  }

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, HEADER_LENGTH / 4);
    const capacity = Atomics.load(this.header, CAPACITY_INDEX) >>> 0;
    this.mask = capacity - 1;
    this.bytes = new Uint8Array(buffer, HEADER_LENGTH, capacity);
    this.view = new DataView(buffer, HEADER_LENGTH, capacity);
    this.head = Atomics.load(this.header, HEAD_INDEX);
  }

  /**
   * Answers the records written since the last call, up to {@link MAX_BATCH}: `visit` gets each record's
   * connection, its frames (a view into the ring, stamped in place) and count, and returns the answer (the
   * message's last seq, or −(1 + error index)). Then `finish` runs once (the group commit): an answer it
   * returns replaces every answer of the batch that was a seq. Then the worker sees them. Returns how many
   * records were answered.
   */
  drain(
    visit: (conn: number, frames: Uint8Array, count: number) => number,
    finish: () => number | undefined,
  ): number {
    const tail = Atomics.load(this.header, TAIL_INDEX);
    const v = this.view;
    let n = 0;
    let head = this.head;
    while (head !== tail && n < MAX_BATCH) {
      const offset = head & this.mask;
      const word = v.getUint32(offset + LENGTH_FIELD, true);
      if ((word & PADDING_FLAG) !== 0) {
        head = (head + (word & ~PADDING_FLAG)) | 0;
        continue;
      }
      const framesEnd = offset + word;
      const answer = visit(
        v.getFloat64(offset + CONN_FIELD, true),
        this.bytes.subarray(offset + FRAMES_FIELD, framesEnd),
        v.getUint32(offset + COUNT_FIELD, true),
      );
      v.setFloat64(offset + ANSWER_FIELD, answer, true);
      this.batch[n++] = offset;
      head = (head + word) | 0;
    }
    if (n === 0 && head === this.head) return 0;
    const failed = finish();
    if (failed !== undefined) {
      for (let i = 0; i < n; i++) {
        if (v.getFloat64(this.batch[i] + ANSWER_FIELD, true) > 0)
          v.setFloat64(this.batch[i] + ANSWER_FIELD, failed, true);
      }
    }
    this.head = head;
    Atomics.store(this.header, HEAD_INDEX, head);
    this.announce();
    return n;
  }

  /** Tells the worker there is news (answers, or more became durable), waking it if it waits. */
  announce(): void {
    Atomics.add(this.header, NEWS_INDEX, 1);
    if (Atomics.load(this.header, PRODUCER_ASLEEP_INDEX) !== 0) Atomics.notify(this.header, NEWS_INDEX);
  }

  /** Whether records wait to be answered. */
  get pending(): boolean {
    return Atomics.load(this.header, TAIL_INDEX) !== this.head;
  }

  /** Resolves once the worker has written past what was drained (at once if it has). */
  awaitData(): Promise<void> {
    return sleepUntilChanged(this.header, TAIL_INDEX, this.head, CONSUMER_ASLEEP_INDEX);
  }
}
