/**
 * Layout of a segment's sparse index file (`<first-seq>.idx` beside `<first-seq>.log`), the only place that
 * knows its offsets. The file is a flat array of entries, one per `indexIntervalBytes` of segment:
 *
 * ```
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Seq delta (u32 LE): record seq - segment first seq   |
 *  +---------------------------------------------------------------+
 *  |          Record offset (u32 LE) inside the segment            |
 *  +---------------------------------------------------------------+
 * ```
 *
 * The index is a hint, never trusted blindly: a reader checks that a record at the hinted offset is valid and
 * carries the hinted seq, and otherwise scans from the segment start. So the index needs no fsync of its
 * own, and a torn index file (length not a multiple of the entry) is read up to its last whole entry. The
 * writer rebuilds the last segment's index at open from the scan it does anyway. Segments are limited to
 * 2^31 bytes so offsets fit.
 */

const SIZE_OF_INT = 4;

/** Offset of the seq delta inside an entry. */
export const SEQ_DELTA_OFFSET = 0;
/** Offset of the record offset inside an entry. */
export const RECORD_OFFSET_OFFSET = SEQ_DELTA_OFFSET + SIZE_OF_INT;
/** Bytes of one index entry. */
export const INDEX_ENTRY_LENGTH = RECORD_OFFSET_OFFSET + SIZE_OF_INT;

/** Position of entry `i`'s seq delta. */
export function seqDeltaOffset(i: number): number {
  return i * INDEX_ENTRY_LENGTH + SEQ_DELTA_OFFSET;
}

/** Position of entry `i`'s record offset. */
export function recordOffsetOffset(i: number): number {
  return i * INDEX_ENTRY_LENGTH + RECORD_OFFSET_OFFSET;
}

/** Whole entries in an index file of `bytes` bytes (a torn last entry is ignored). */
export function entryCount(bytes: number): number {
  return Math.floor(bytes / INDEX_ENTRY_LENGTH);
}
