/**
 * Layout of an ingest ring: the single-producer, single-consumer SharedArrayBuffer ring that carries a
 * socket worker's decoded publisher messages to the sequencer, and the sequencer's answer back — in place,
 * in each record. It replaces a `postMessage` per message and one per batch of acks (profiled at ≈ 65 µs
 * per postMessage in the worker under JSON ingest).
 *
 * Header (each field on its own 64-byte cache line):
 *
 * ```
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Tail (u32 position after the last record written; worker)    |  byte 0
 *  +---------------------------------------------------------------+
 *  |  Head (u32 position after the last record answered; main)     |  byte 64
 *  +---------------------------------------------------------------+
 *  |  Consumer asleep (i32: 1 while the main thread waits on Tail) |  byte 128
 *  +---------------------------------------------------------------+
 *  |  News (i32, bumped by main on answers and on durability)      |  byte 192
 *  +---------------------------------------------------------------+
 *  |  Producer asleep (i32: 1 while the worker waits on News)      |  byte 256
 *  +---------------------------------------------------------------+
 *  |  Capacity (u32 bytes of the data region)                      |  byte 320
 *  +---------------------------------------------------------------+
 *  |  Data region: records back to back, `capacity` bytes         ...  byte 384
 *  +---------------------------------------------------------------+
 * ```
 *
 * A record (8-aligned; a padding record fills the region's end when the next one does not fit, as in the
 * broadcast ring):
 *
 * ```
 *  +-+-------------------------------------------------------------+
 *  |P|  Record length (u32 LE, bytes of the whole record)          |  +0
 *  +-+-------------------------------------------------------------+
 *  |  Frame count (u32 LE)                                          |  +4
 *  +---------------------------------------------------------------+
 *  |  Connection id (f64 LE)                                        |  +8
 *  +---------------------------------------------------------------+
 *  |  Answer (f64 LE): 0 = not yet; > 0 = the message's last seq;  |  +16
 *  |  < 0 = −(1 + index of the error code in ERROR_CODES)           |
 *  +---------------------------------------------------------------+
 *  |  Frames: size-prefixed, back to back, as the ingest edge      ...  +24
 *  |  encoded them (the sequencer stamps seq and ts_recv in place)  |
 *  +---------------------------------------------------------------+
 * ```
 *
 * Invariants: positions are bytes since creation, wrapping at 2^32; `capacity` is a power of two. The worker
 * writes a record, then publishes Tail; the main thread reads records up to Tail, writes each answer, then
 * publishes Head. The worker reads answers of records below Head and only then reuses their bytes, so the
 * space it may write is `capacity − (tail − answered)`, `answered` being its own cursor ≤ Head.
 */

export const CACHE_LINE_LENGTH = 64;
export const SIZE_OF_INT = 4;

export const TAIL_OFFSET = 0;
export const HEAD_OFFSET = TAIL_OFFSET + CACHE_LINE_LENGTH;
export const CONSUMER_ASLEEP_OFFSET = HEAD_OFFSET + CACHE_LINE_LENGTH;
export const NEWS_OFFSET = CONSUMER_ASLEEP_OFFSET + CACHE_LINE_LENGTH;
export const PRODUCER_ASLEEP_OFFSET = NEWS_OFFSET + CACHE_LINE_LENGTH;
export const CAPACITY_OFFSET = PRODUCER_ASLEEP_OFFSET + CACHE_LINE_LENGTH;
export const HEADER_LENGTH = CAPACITY_OFFSET + CACHE_LINE_LENGTH;

export const TAIL_INDEX = TAIL_OFFSET / SIZE_OF_INT;
export const HEAD_INDEX = HEAD_OFFSET / SIZE_OF_INT;
export const CONSUMER_ASLEEP_INDEX = CONSUMER_ASLEEP_OFFSET / SIZE_OF_INT;
export const NEWS_INDEX = NEWS_OFFSET / SIZE_OF_INT;
export const PRODUCER_ASLEEP_INDEX = PRODUCER_ASLEEP_OFFSET / SIZE_OF_INT;
export const CAPACITY_INDEX = CAPACITY_OFFSET / SIZE_OF_INT;

export const LENGTH_FIELD = 0;
export const COUNT_FIELD = LENGTH_FIELD + SIZE_OF_INT;
export const CONN_FIELD = COUNT_FIELD + SIZE_OF_INT;
export const ANSWER_FIELD = CONN_FIELD + 8;
export const FRAMES_FIELD = ANSWER_FIELD + 8;

export const RECORD_ALIGNMENT = 8;
export const PADDING_FLAG = 0x8000_0000;

/** A record's answer before the sequencer wrote one. */
export const NO_ANSWER = 0;

/** Length of a record holding `frameBytes` of frames. */
export function ingestRecordLength(frameBytes: number): number {
  return FRAMES_FIELD + ((frameBytes + RECORD_ALIGNMENT - 1) & ~(RECORD_ALIGNMENT - 1));
}

/** Bytes of a ring buffer with a data region of `capacity`. */
export function ingestRingBytes(capacity: number): number {
  if (capacity < 4096 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 30) {
    throw new RangeError(
      `ingest ring capacity must be a power of two from 4 KiB to 1 GiB: capacity=${capacity}`,
    );
  }
  return HEADER_LENGTH + capacity;
}
