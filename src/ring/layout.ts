/**
 * Layout of the shared-memory broadcast ring: a header of four cache lines, then the data region.
 *
 * Header (each field alone on its 64-byte cache line, so the writer's stores to `tailIntent` and `tail` do
 * not bounce the line the sleeping readers bump in `waiters`):
 *
 * ```
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Tail intent (u32 position the writer may be writing up to)   |  byte 0
 *  +---------------------------------------------------------------+
 *  |                     unused to byte 64                        ...
 *  +---------------------------------------------------------------+
 *  |  Tail (u32 position published after the bytes are written)   |  byte 64
 *  +---------------------------------------------------------------+
 *  |                     unused to byte 128                       ...
 *  +---------------------------------------------------------------+
 *  |  Waiters (i32 count of readers asleep on Tail)                |  byte 128
 *  +---------------------------------------------------------------+
 *  |                     unused to byte 192                       ...
 *  +---------------------------------------------------------------+
 *  |  Capacity (u32 bytes of the data region)                      |  byte 192
 *  +---------------------------------------------------------------+
 *  |                     unused to byte 256                       ...
 *  +---------------------------------------------------------------+
 *  |  Data region: records back to back, `capacity` bytes         ...  byte 256
 *  +---------------------------------------------------------------+
 * ```
 *
 * A record is a size-prefixed frame exactly as the codec encodes it, or a padding record:
 *
 * ```
 *  +-+-------------------------------------------------------------+
 *  |P|  Size (u32 LE: bytes after this word; P = padding marker)   |
 *  +-+-------------------------------------------------------------+
 *  |  Frame bytes (P = 0), or ignored bytes up to the region end  ...
 *  +---------------------------------------------------------------+
 * ```
 *
 * Invariants:
 * - Positions are byte counts since the ring was created, wrapping at 2^32 (stored as Int32, compared with
 *   `(a - b) | 0`); a position's offset in the data region is `position & (capacity - 1)`.
 * - `capacity` is a power of two, so it divides 2^32 and offsets stay continuous when positions wrap.
 * - Every record is a multiple of {@link RECORD_ALIGNMENT} long and never straddles the end of the data
 *   region: when the next frame does not fit, a padding record fills the rest and the frame starts at offset
 *   0. Offset 0 is therefore always the start of a record.
 * - A frame's size word never has the padding bit set, since frames are at most `capacity / 4` ≤ 2^28 bytes.
 * - `tail` ≤ `tailIntent` (in wrap-safe arithmetic), and `tailIntent` never moves back: bytes at position
 *   `p` are intact while `tailIntent - p ≤ capacity`. Between publishes `tailIntent` runs ahead of `tail` by
 *   the unpublished batch (and the padding before it).
 * - Only one writer per buffer.
 */

/** Bytes in a cache line: each header field gets its own. */
export const CACHE_LINE_LENGTH = 64;
/** Bytes of one Int32 header word. */
export const SIZE_OF_INT = 4;

/** Offset of the position the writer may be writing up to; stored before bytes that could overwrite. */
export const TAIL_INTENT_OFFSET = 0;
/** Offset of the published position: every record before it is complete. */
export const TAIL_OFFSET = TAIL_INTENT_OFFSET + CACHE_LINE_LENGTH;
/** Offset of the count of readers asleep on `tail`; the writer notifies only when it is positive. */
export const WAITERS_OFFSET = TAIL_OFFSET + CACHE_LINE_LENGTH;
/** Offset of the data region's capacity in bytes, written once by the writer. */
export const CAPACITY_OFFSET = WAITERS_OFFSET + CACHE_LINE_LENGTH;
/** Bytes of the header; the data region starts right after it. */
export const HEADER_LENGTH = CAPACITY_OFFSET + CACHE_LINE_LENGTH;

/** Int32Array indices of the header words. */
export const TAIL_INTENT_INDEX = TAIL_INTENT_OFFSET / SIZE_OF_INT;
export const TAIL_INDEX = TAIL_OFFSET / SIZE_OF_INT;
export const WAITERS_INDEX = WAITERS_OFFSET / SIZE_OF_INT;
export const CAPACITY_INDEX = CAPACITY_OFFSET / SIZE_OF_INT;

/** Every record's length is a multiple of this (the codec's frame alignment). */
export const RECORD_ALIGNMENT = 8;
/** Bytes of a record's size word. */
export const RECORD_SIZE_LENGTH = 4;
/** Set in a size word to mark padding up to the end of the data region; no frame size has it. */
export const PADDING_FLAG = 0x8000_0000;

/** Smallest data region: room for a few of the smallest frames (96 bytes, a heartbeat). */
export const MIN_CAPACITY = 1024;
/** Largest data region: signed 32-bit position differences then still tell a lap from almost two. */
export const MAX_CAPACITY = 2 ** 30;
/** A frame may take at most this fraction of the capacity, so a lap always holds several records. */
export const MAX_FRAME_FRACTION = 4;

/** Offset in the data region of the record at `position`. */
export function recordOffset(position: number, capacity: number): number {
  return position & (capacity - 1);
}

/** Int32Array index (over the data region) of the size word of the record at `offset`. */
export function sizeWordIndex(offset: number): number {
  return offset >> 2;
}

/** Total length of the frame record whose size word is `sizeWord` (no padding flag). */
export function frameRecordLength(sizeWord: number): number {
  return sizeWord + RECORD_SIZE_LENGTH;
}

/** Whether `sizeWord` (as read from an Int32Array) marks a padding record. */
export function isPadding(sizeWord: number): boolean {
  return (sizeWord & PADDING_FLAG) !== 0;
}

/** The size word of a padding record `length` bytes long. */
export function paddingSizeWord(length: number): number {
  return PADDING_FLAG | (length - RECORD_SIZE_LENGTH) | 0;
}

/** Total bytes of the SharedArrayBuffer for a ring of `capacity` data bytes. */
export function bufferLength(capacity: number): number {
  return HEADER_LENGTH + capacity;
}

/**
 * Checks that `capacity` is a valid data-region size and returns it.
 * @throws RangeError naming the bad value.
 */
export function checkCapacity(capacity: number): number {
  if (
    !Number.isInteger(capacity) ||
    capacity < MIN_CAPACITY ||
    capacity > MAX_CAPACITY ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new RangeError(
      `ring capacity must be a power of 2 between ${MIN_CAPACITY} and ${MAX_CAPACITY}: capacity=${capacity}`,
    );
  }
  return capacity;
}

/**
 * Checks that `buffer` can hold a ring (header plus a valid capacity) and returns its data capacity.
 * @throws TypeError or RangeError naming the bad value.
 */
export function capacityOf(buffer: SharedArrayBuffer): number {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      `ring buffer must be a SharedArrayBuffer: got ${Object.prototype.toString.call(buffer)}`,
    );
  }
  if (!LITTLE_ENDIAN)
    throw new Error("the ring reads frame size prefixes as native Int32: needs little-endian");
  const capacity = buffer.byteLength - HEADER_LENGTH;
  if ((capacity & (capacity - 1)) !== 0 || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
    throw new RangeError(
      `ring buffer must be ${HEADER_LENGTH} header bytes + a power-of-2 capacity between ${MIN_CAPACITY} and ` +
        `${MAX_CAPACITY}: byteLength=${buffer.byteLength}, capacity=${capacity}`,
    );
  }
  return capacity;
}

// Size words are read through an Int32Array and frames carry little-endian prefixes.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
