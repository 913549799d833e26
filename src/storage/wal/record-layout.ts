/**
 * Layout of one WAL record, the only place that knows its offsets.
 *
 * ```
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Length (u32 LE): bytes of the frame that follows     |
 *  +---------------------------------------------------------------+
 *  |          CRC32C (u32 LE) of the frame bytes                   |
 *  +---------------------------------------------------------------+
 *  |          Frame: size-prefixed FlatBuffer, exactly as the     ...
 *  ...        ring and the sockets carry it (Length bytes)         |
 *  +---------------------------------------------------------------+
 * ```
 *
 * Invariants: the header is 8 bytes and every frame's length is a multiple of 8, so every record starts
 * 8-aligned inside a segment. A record is valid when Length is a multiple of 8 in [8, MAX_FRAME_LENGTH], the
 * frame's own size prefix equals `Length - 4` (a second, independent check on Length that the CRC does not
 * need to cover), and the CRC32C of the frame bytes matches. Records carry no seq: a record's seq is its
 * segment's first seq (the file name) plus its index in the segment, so seqs are gap-free by construction.
 */
import { FRAME_ALIGNMENT, MAX_FRAME_LENGTH, SIZE_PREFIX_LENGTH } from "../../frame/codec.js";

const SIZE_OF_INT = 4;

/** Offset of the frame length inside a record. */
export const LENGTH_OFFSET = 0;
/** Offset of the CRC32C inside a record. */
export const CRC_OFFSET = LENGTH_OFFSET + SIZE_OF_INT;
/** Offset of the frame bytes inside a record. */
export const FRAME_OFFSET = CRC_OFFSET + SIZE_OF_INT;
/** Bytes of a record in front of its frame. */
export const RECORD_HEADER_LENGTH = FRAME_OFFSET;
/** Alignment of every record inside a segment. */
export const RECORD_ALIGNMENT = FRAME_ALIGNMENT;
/** Largest record: header plus the largest frame the codec accepts. */
export const MAX_RECORD_LENGTH = RECORD_HEADER_LENGTH + MAX_FRAME_LENGTH;

/** Position of the length word of the record at `recordOffset`. */
export function lengthOffset(recordOffset: number): number {
  return recordOffset + LENGTH_OFFSET;
}

/** Position of the CRC word of the record at `recordOffset`. */
export function crcOffset(recordOffset: number): number {
  return recordOffset + CRC_OFFSET;
}

/** Position of the frame of the record at `recordOffset`. */
export function frameOffset(recordOffset: number): number {
  return recordOffset + FRAME_OFFSET;
}

/** Total bytes of a record holding a frame of `frameLength` bytes. */
export function recordLength(frameLength: number): number {
  return RECORD_HEADER_LENGTH + frameLength;
}

/**
 * Why a frame length read from a record header cannot be right, or `null` when it is plausible.
 * Catches zeroed tails (length 0) and garbage before anything is read past the header.
 */
export function badFrameLength(frameLength: number): string | null {
  if (frameLength < FRAME_ALIGNMENT) return `length ${frameLength} below ${FRAME_ALIGNMENT}`;
  if (frameLength % FRAME_ALIGNMENT !== 0)
    return `length ${frameLength} not a multiple of ${FRAME_ALIGNMENT}`;
  if (frameLength > MAX_FRAME_LENGTH) return `length ${frameLength} above ${MAX_FRAME_LENGTH}`;
  return null;
}

/** The size prefix a frame of `frameLength` bytes must carry. */
export function expectedSizePrefix(frameLength: number): number {
  return frameLength - SIZE_PREFIX_LENGTH;
}
