/**
 * What a damaged segment still holds. A whole-file scan ({@link scanSegmentFile}) stops at the first bad
 * record; but after a flipped byte the records that follow are usually intact, and cutting there would throw
 * them away. So the scan resynchronises: records start 8-aligned, so every aligned offset after the bad record
 * is tried until one holds a valid record (length, size prefix and CRC32C all check: chance does not pass
 * that), and from there intact records are collected with the seqs their frames carry.
 *
 * Memory: one read buffer, whatever the segment size.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { frameSeq } from "../../frame/codec.js";
import { frameOffset, MAX_RECORD_LENGTH, RECORD_ALIGNMENT } from "./record-layout.js";
import { type FileScan, newScanState, scanRecords, scanSegmentFile } from "./scan.js";

/** Intact records after the damage: consecutive seqs, back to back in the file at [offset, end). */
export interface IntactRun {
  firstSeq: number;
  count: number;
  offset: number;
  end: number;
}

/** A whole-file scan of a segment, with what survives after its first bad record. */
export interface SegmentScan extends FileScan {
  file: string;
  /** Seq of the segment's first record (from its name). */
  firstSeq: number;
  /** Intact records after `goodEnd`, in file order, seqs increasing; empty when the file ends clean. */
  after: IntactRun[];
}

/** Scans `file` (whose first record has `firstSeq`), resynchronising past damage; see the module doc. */
export function scanSegment(file: string, firstSeq: number, indexIntervalBytes: number): SegmentScan {
  const scan = scanSegmentFile(file, indexIntervalBytes);
  const after =
    scan.goodEnd < scan.fileBytes
      ? intactAfter(file, scan.goodEnd + RECORD_ALIGNMENT, scan.fileBytes, firstSeq + scan.count - 1)
      : [];
  return { ...scan, file, firstSeq, after };
}

const WINDOW_BYTES = Math.max(4 << 20, 2 * MAX_RECORD_LENGTH);

/** Intact records in `file` from offset `from` on whose seqs are above `lastSeq`. */
function intactAfter(file: string, from: number, fileBytes: number, lastSeq: number): IntactRun[] {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(WINDOW_BYTES);
    const state = newScanState();
    const runs: IntactRun[] = [];
    let base = from; // file offset of buf[0]
    let filled = 0;
    let last = lastSeq;
    for (let pos = from; pos < fileBytes;) {
      if (pos + MAX_RECORD_LENGTH > base + filled && base + filled < fileBytes) {
        base = pos;
        filled = 0;
        for (let n = 1; n > 0 && filled < buf.length; filled += n) {
          n = readSync(fd, buf, filled, buf.length - filled, base + filled);
        }
      }
      const at = pos - base;
      scanRecords(buf, at, filled, true, null, 1, state);
      if (state.count === 1) {
        const seq = frameSeq(buf, frameOffset(at));
        if (seq > last) {
          const end = base + state.pos;
          const run = runs.at(-1);
          if (run !== undefined && run.end === pos && seq === run.firstSeq + run.count) {
            run.count++;
            run.end = end;
          } else {
            runs.push({ firstSeq: seq, count: 1, offset: pos, end });
          }
          last = seq;
          pos = end;
          continue;
        }
      }
      pos += RECORD_ALIGNMENT;
    }
    return runs;
  } finally {
    closeSync(fd);
  }
}
