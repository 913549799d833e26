/**
 * Layout of the LevelDB keys and values of the store, the only place that knows their offsets. Keys are
 * big-endian and fixed-width, so LevelDB's byte order is numeric order and a range read is one iterator.
 *
 * Seq block — every frame, by seq (value: the frames of seqs firstSeq, firstSeq+1, … back to back):
 * ```
 *  +--------+------------------------------------------------------------------+
 *  | 's'    |  First seq (u64 BE)                                              |
 *  +--------+------------------------------------------------------------------+
 *   0        1                                                                 9
 * ```
 * Time block — one instrument id over one time bucket (value: that id's frames in the bucket, in seq order,
 * back to back; ids collide rarely, so readers compare symbol bytes):
 * ```
 *  +--------+------------------+--------------------------+---------------------------+
 *  | 't'    | Instrument (u32) | Bucket = ts_recv / bucketNs (u64 BE) | First seq (u64 BE) |
 *  +--------+------------------+--------------------------+---------------------------+
 *   0        1                  5                          13                          21
 * ```
 * Checkpoint `'c'` → highest seq indexed (u64 BE), written in the same LevelDB batch as the blocks it covers.
 * Meta `'m'` → JSON of the settings readers must share with the writer (the bucket width).
 *
 * Values are size-prefixed frames exactly as the WAL and the ring hold them; a block is a valid WebSocket
 * payload as is. u64 fields hold numbers below 2^53 (seqs, buckets), written as two u32 halves.
 */
import type { LevelPut } from "./leveldb.js";

const SIZE_OF_TAG = 1;
const SIZE_OF_INT = 4;
const SIZE_OF_LONG = 8;

export const TAG_SEQ_BLOCK = 0x73; // 's'
export const TAG_TIME_BLOCK = 0x74; // 't'
export const TAG_CHECKPOINT = 0x63; // 'c'
export const TAG_META = 0x6d; // 'm'

/** Offset of the first seq in a seq-block key. */
export const SEQ_KEY_SEQ_OFFSET = SIZE_OF_TAG;
/** Bytes of a seq-block key. */
export const SEQ_KEY_LENGTH = SEQ_KEY_SEQ_OFFSET + SIZE_OF_LONG;

/** Offset of the instrument id in a time-block key. */
export const TIME_KEY_INSTRUMENT_OFFSET = SIZE_OF_TAG;
/** Offset of the bucket in a time-block key. */
export const TIME_KEY_BUCKET_OFFSET = TIME_KEY_INSTRUMENT_OFFSET + SIZE_OF_INT;
/** Offset of the first seq in a time-block key. */
export const TIME_KEY_SEQ_OFFSET = TIME_KEY_BUCKET_OFFSET + SIZE_OF_LONG;
/** Bytes of a time-block key. */
export const TIME_KEY_LENGTH = TIME_KEY_SEQ_OFFSET + SIZE_OF_LONG;

/** The checkpoint key. */
export const CHECKPOINT_KEY = Uint8Array.of(TAG_CHECKPOINT);
/** The meta key. */
export const META_KEY = Uint8Array.of(TAG_META);

/** The batch operation that sets the checkpoint to `seq`. */
export function checkpointPut(seq: number): LevelPut {
  const value = new Uint8Array(SIZE_OF_LONG);
  writeU64(value, 0, seq);
  return { type: "put", key: CHECKPOINT_KEY, value };
}

/** The seq a checkpoint value holds; 0 for a store without one (nothing indexed yet). */
export function checkpointOf(value: Uint8Array | undefined): number {
  return value === undefined ? 0 : readU64(value, 0);
}

const TWO_32 = 0x1_0000_0000;

/** Writes `value` (an integer in [0, 2^53)) as u64 BE at `offset`. */
export function writeU64(buf: Uint8Array, offset: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  writeU32(buf, offset, hi);
  writeU32(buf, offset + SIZE_OF_INT, value - hi * TWO_32);
}

/** Reads a u64 BE below 2^53 at `offset`. */
export function readU64(buf: Uint8Array, offset: number): number {
  return readU32(buf, offset) * TWO_32 + readU32(buf, offset + SIZE_OF_INT);
}

/** Writes a u32 BE. */
export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = value >>> 16;
  buf[offset + 2] = value >>> 8;
  buf[offset + 3] = value;
}

/** Reads a u32 BE. */
export function readU32(buf: Uint8Array, offset: number): number {
  return ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0;
}

/** A new seq-block key. */
export function seqKey(firstSeq: number): Uint8Array {
  const k = new Uint8Array(SEQ_KEY_LENGTH);
  k[0] = TAG_SEQ_BLOCK;
  writeU64(k, SEQ_KEY_SEQ_OFFSET, firstSeq);
  return k;
}

/** A new time-block key. */
export function timeKey(instrumentId: number, bucket: number, firstSeq: number): Uint8Array {
  const k = new Uint8Array(TIME_KEY_LENGTH);
  k[0] = TAG_TIME_BLOCK;
  writeU32(k, TIME_KEY_INSTRUMENT_OFFSET, instrumentId);
  writeU64(k, TIME_KEY_BUCKET_OFFSET, bucket);
  writeU64(k, TIME_KEY_SEQ_OFFSET, firstSeq);
  return k;
}

/** Largest value that fits a u64 field here (seqs and buckets stay below 2^53). */
export const MAX_U64_FIELD = Number.MAX_SAFE_INTEGER;

/** First seq of a seq-block key. */
export function seqKeySeq(key: Uint8Array): number {
  return readU64(key, SEQ_KEY_SEQ_OFFSET);
}

/** Instrument id of a time-block key. */
export function timeKeyInstrument(key: Uint8Array): number {
  return readU32(key, TIME_KEY_INSTRUMENT_OFFSET);
}

/** Bucket of a time-block key. */
export function timeKeyBucket(key: Uint8Array): number {
  return readU64(key, TIME_KEY_BUCKET_OFFSET);
}

/** First seq of a time-block key. */
export function timeKeySeq(key: Uint8Array): number {
  return readU64(key, TIME_KEY_SEQ_OFFSET);
}
