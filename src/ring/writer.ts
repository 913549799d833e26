/**
 * The single writer of the shared-memory broadcast ring (layout in `layout.ts`).
 *
 * Modelled on Agrona's BroadcastTransmitter: before writing bytes that may overwrite older records the
 * writer raises `tailIntent`, then copies the frame, and `publish()` stores `tail` once for the whole batch.
 * Readers compare their positions with `tailIntent` to detect that they were lapped, so the writer never
 * waits for any of them.
 */
import {
  bufferLength,
  CAPACITY_INDEX,
  capacityOf,
  checkCapacity,
  HEADER_LENGTH,
  MAX_FRAME_FRACTION,
  paddingSizeWord,
  RECORD_ALIGNMENT,
  RECORD_SIZE_LENGTH,
  SIZE_OF_INT,
  TAIL_INDEX,
  TAIL_INTENT_INDEX,
  WAITERS_INDEX,
} from "./layout.js";

/**
 * Appends size-prefixed frames to a ring and publishes them to every reader.
 *
 * Only one writer may exist per buffer, in one thread. The writer never blocks: a reader that falls more
 * than a lap behind finds out by itself.
 */
export class RingWriter {
  /** The shared memory of the ring: hand it to readers in other threads. */
  readonly buffer: SharedArrayBuffer;
  /** Bytes of the data region. */
  readonly capacity: number;
  /** Longest frame `append` accepts, prefix included. */
  readonly maxFrameLength: number;

  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  /** Position after the last appended record, published or not. */
  private tail: number;
  private publishedTail: number;
  /** The tailIntent last stored: the furthest position the writer may have written to. */
  private intent: number;
  private notifies = 0;

  /** Creates a ring with a data region of `capacityBytes` (a power of two, 1 KiB to 1 GiB) and its writer. */
  static allocate(capacityBytes: number): RingWriter {
    return new RingWriter(new SharedArrayBuffer(bufferLength(checkCapacity(capacityBytes))));
  }

  /**
   * Takes the writer's role for `buffer`: a fresh one (all zero) or one a previous writer left, which is
   * resumed at its published tail.
   * @throws RangeError when the buffer's size or recorded capacity is not a ring's.
   */
  constructor(buffer: SharedArrayBuffer) {
    const capacity = capacityOf(buffer);
    this.buffer = buffer;
    this.capacity = capacity;
    this.maxFrameLength = capacity / MAX_FRAME_FRACTION;
    this.mask = capacity - 1;
    this.header = new Int32Array(buffer, 0, HEADER_LENGTH / SIZE_OF_INT);
    this.bytes = new Uint8Array(buffer, HEADER_LENGTH, capacity);
    this.words = new Int32Array(buffer, HEADER_LENGTH, capacity / SIZE_OF_INT);
    const recorded = Atomics.compareExchange(this.header, CAPACITY_INDEX, 0, capacity);
    if (recorded !== 0 && recorded !== capacity) {
      throw new RangeError(`ring header records another capacity: header=${recorded}, buffer=${capacity}`);
    }
    this.tail = Atomics.load(this.header, TAIL_INDEX);
    this.publishedTail = this.tail;
    // A previous writer that died between raising tailIntent and publishing left it ahead of the tail, over
    // bytes it may have half-written: keep it there (never lower it), so readers still treat them as lost.
    const intent = Atomics.load(this.header, TAIL_INTENT_INDEX);
    this.intent = ((intent - this.tail) | 0) > 0 ? intent : this.tail;
    Atomics.store(this.header, TAIL_INTENT_INDEX, this.intent);
  }

  /**
   * Copies a size-prefixed frame into the ring without publishing it; call {@link publish} after a batch.
   * @throws RangeError when the frame is empty, not a multiple of 8 bytes, longer than `maxFrameLength` or
   * disagrees with its own size prefix.
   */
  append(frame: Uint8Array): void {
    const length = frame.length;
    if (length === 0 || length > this.maxFrameLength || (length & (RECORD_ALIGNMENT - 1)) !== 0) {
      throw this.badFrame(length, "must be 8-aligned, 8 bytes to maxFrameLength long");
    }
    const prefix = frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24);
    if (prefix + RECORD_SIZE_LENGTH !== length) throw this.badFrame(length, `size prefix says ${prefix}`);

    let tail = this.tail;
    let offset = tail & this.mask;
    const toEnd = this.capacity - offset;
    if (length > toEnd) {
      // Records never straddle the end, so any run of them is one contiguous WebSocket payload.
      this.signalTailIntent((tail + toEnd + length) | 0);
      this.words[offset >> 2] = paddingSizeWord(toEnd);
      tail = (tail + toEnd) | 0;
      offset = 0;
    } else {
      this.signalTailIntent((tail + length) | 0);
    }
    this.bytes.set(frame, offset);
    this.tail = (tail + length) | 0;
  }

  /** Makes every appended record visible to readers, waking sleeping readers only if there are any. */
  publish(): void {
    if (this.tail === this.publishedTail) return;
    this.publishedTail = this.tail;
    this.publishTail(this.tail);
    if (this.hasWaiters()) this.wakeWaiters();
  }

  /**
   * Drops the records appended since the last publish (their WAL group failed to write). `tailIntent` stays
   * where it is: the bytes may have been overwritten, so readers must still treat them as lost, and the
   * next appends only raise it again once they pass it.
   */
  discard(): void {
    this.tail = this.publishedTail;
  }

  /** Position (bytes since creation, wrapping at 2^32) after the last appended record, published or not. */
  position(): number {
    return this.tail >>> 0;
  }

  /** How many times `publish` called `Atomics.notify`: it does only when readers sleep. */
  get notifyCalls(): number {
    return this.notifies;
  }

  private signalTailIntent(position: number): void {
    if (((position - this.intent) | 0) <= 0) return;
    this.intent = position;
    Atomics.store(this.header, TAIL_INTENT_INDEX, position);
  }

  private publishTail(position: number): void {
    Atomics.store(this.header, TAIL_INDEX, position);
  }

  private hasWaiters(): boolean {
    return Atomics.load(this.header, WAITERS_INDEX) > 0;
  }

  private wakeWaiters(): void {
    this.notifies++;
    Atomics.notify(this.header, TAIL_INDEX);
  }

  private badFrame(length: number, rule: string): RangeError {
    return new RangeError(`ring frame ${rule} (maxFrameLength=${this.maxFrameLength}): length=${length}`);
  }
}
