/**
 * Record validation over a buffer, shared by the writer's open-time scan and the reader. Allocation-free: the
 * outcome goes into a caller-owned {@link ScanState}.
 */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { crc32c } from "@node-rs/crc32";
import { SIZE_PREFIX_LENGTH } from "../../frame/codec.js";
import {
  badFrameLength,
  crcOffset,
  expectedSizePrefix,
  frameOffset,
  lengthOffset,
  MAX_RECORD_LENGTH,
  recordLength,
} from "./record-layout.js";

/** Why a scan stopped. */
export enum ScanStop {
  /** Consumed everything up to `end`. */
  End = 0,
  /** The record at `pos` does not fit before `end` (a tail still being written, or torn). */
  Partial = 1,
  /** The record at `pos` fails its checks; `reason` says which. */
  Corrupt = 2,
  /** `maxCount` records were taken. */
  Full = 3,
}

/** Outcome of {@link scanRecords}; reuse one per scanner. */
export interface ScanState {
  /** Offset of the first record not taken. */
  pos: number;
  /** Records taken by this call. */
  count: number;
  stop: ScanStop;
  reason: string;
}

/** A fresh {@link ScanState}. */
export function newScanState(): ScanState {
  return { pos: 0, count: 0, stop: ScanStop.End, reason: "" };
}

/**
 * Validates the records of `buf[from, end)` in order, writing each frame's offset into `frames` (when given)
 * and stopping at the first record that is partial or corrupt, or after `maxCount` records.
 */
export function scanRecords(
  buf: Buffer,
  from: number,
  end: number,
  verifyCrc: boolean,
  frames: Int32Array | null,
  maxCount: number,
  state: ScanState,
): void {
  let pos = from;
  let count = 0;
  state.stop = ScanStop.End;
  while (pos < end) {
    if (count === maxCount) {
      state.stop = ScanStop.Full;
      break;
    }
    if (end - pos < frameOffset(0)) {
      state.stop = ScanStop.Partial;
      break;
    }
    const len = buf.readUInt32LE(lengthOffset(pos));
    const bad = badFrameLength(len);
    if (bad !== null) {
      state.stop = ScanStop.Corrupt;
      state.reason = bad;
      break;
    }
    const next = pos + recordLength(len);
    if (next > end) {
      state.stop = ScanStop.Partial;
      break;
    }
    const frame = frameOffset(pos);
    if (buf.readUInt32LE(frame) !== expectedSizePrefix(len)) {
      state.stop = ScanStop.Corrupt;
      state.reason = `frame size prefix ${buf.readUInt32LE(frame)} does not match record length ${len} - ${SIZE_PREFIX_LENGTH}`;
      break;
    }
    if (verifyCrc && crc32c(buf.subarray(frame, next)) !== buf.readUInt32LE(crcOffset(pos))) {
      state.stop = ScanStop.Corrupt;
      state.reason = "CRC32C mismatch";
      break;
    }
    if (frames !== null) frames[count] = frame;
    count++;
    pos = next;
  }
  state.pos = pos;
  state.count = count;
}

/** What a whole-file scan found. */
export interface FileScan {
  /** Bytes of the file. */
  fileBytes: number;
  /** End of the last valid record: where a cut would go. */
  goodEnd: number;
  /** Valid records before `goodEnd`. */
  count: number;
  /** Set when a record fails its checks (as opposed to a short tail). */
  corrupt: { offset: number; reason: string } | null;
  /** Sparse index entries (seq delta, record offset) pairs, flat, per `indexIntervalBytes`. */
  index: number[];
}

const SCAN_CHUNK = 1 << 20;

/**
 * Scans a whole segment file from the start, verifying every record, in `SCAN_CHUNK` reads. Builds the sparse
 * index on the way, with the same rule as the writer ({@link nextIndexBoundary}). With `maxRecords`, stops
 * after that many: `goodEnd` is then where the next record starts.
 */
export function scanSegmentFile(file: string, indexIntervalBytes: number, maxRecords = Infinity): FileScan {
  const fd = openSync(file, "r");
  try {
    const fileBytes = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(Math.max(SCAN_CHUNK, MAX_RECORD_LENGTH * 2));
    const state = newScanState();
    const index: number[] = [];
    const frames = new Int32Array(buf.length >>> 4);
    let bufStart = 0; // file offset of buf[0]
    let filled = 0;
    let count = 0;
    let nextIndexAt = indexIntervalBytes;
    for (;;) {
      const n = filled < buf.length ? readSync(fd, buf, filled, buf.length - filled, bufStart + filled) : 0;
      filled += n;
      scanRecords(buf, 0, filled, true, frames, Math.min(frames.length, maxRecords - count), state);
      for (let i = 0; i < state.count; i++) {
        const recordAt = bufStart + frames[i] - frameOffset(0);
        if (recordAt >= nextIndexAt) {
          index.push(count + i, recordAt);
          nextIndexAt = nextIndexBoundary(recordAt, indexIntervalBytes);
        }
      }
      count += state.count;
      if (count === maxRecords)
        return { fileBytes, goodEnd: bufStart + state.pos, count, corrupt: null, index };
      if (state.stop === ScanStop.Corrupt) {
        const offset = bufStart + state.pos;
        return { fileBytes, goodEnd: offset, count, corrupt: { offset, reason: state.reason }, index };
      }
      if (n === 0 && state.stop !== ScanStop.Full) {
        return { fileBytes, goodEnd: bufStart + state.pos, count, corrupt: null, index };
      }
      // Keep the unconsumed tail at the front of the buffer for the next read.
      buf.copyWithin(0, state.pos, filled);
      bufStart += state.pos;
      filled -= state.pos;
    }
  } finally {
    closeSync(fd);
  }
}

/** The offset from which the next index entry is due, after an entry for a record at `recordAt`. */
export function nextIndexBoundary(recordAt: number, intervalBytes: number): number {
  return recordAt - (recordAt % intervalBytes) + intervalBytes;
}
