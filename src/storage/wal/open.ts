/**
 * Opening the WAL directory: finds the segments, verifies the last one (and the newest sealed one, or every
 * sealed one with `verifySealed`), cuts a torn or corrupt tail of the last segment, and works out where the
 * writer resumes. Synchronous: it runs once, before anything is appended.
 *
 * Why only the last segment may be cut: a roll fdatasyncs the old segment before the next one exists (except
 * under `os`), so a sealed segment is complete; a bad record in one is corruption, not a crash, and fails the
 * open naming the file and offset instead of silently dropping acked data.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, statSync } from "node:fs";
import { WalCorruptError } from "../errors.js";
import { makeDir } from "../make-dir.js";
import { listSegments } from "./files.js";
import type { ResolvedWalOptions } from "./options.js";
import { scanSegmentFile } from "./scan.js";

/** What {@link Wal.open} found. */
export interface WalOpenReport {
  /** Highest seq in the WAL after the cut (0 when empty). */
  lastSeq: number;
  /** Set when the last segment had a torn or corrupt tail, which was cut. */
  truncated?: { file: string; offset: number; reason: string; bytesCut: number };
}

/** A segment the writer will not write again. */
export interface SealedSegment {
  file: string;
  firstSeq: number;
  bytes: number;
}

/** Where the writer resumes after {@link openWalDir}. */
export interface ResumeState {
  /** Highest seq in the WAL (0 when empty). */
  lastSeq: number;
  /** Every segment but the last, oldest first. */
  sealed: SealedSegment[];
  /** The last segment, which the writer continues; null when the WAL has no segment yet. */
  active: {
    firstSeq: number;
    /** Its valid bytes (after any cut). */
    bytes: number;
    /** Its sparse index as the scan rebuilt it: flat (seq delta, record offset) pairs. */
    index: number[];
  } | null;
}

/** Opens (creating it when absent) the WAL directory of `opts`; see the module doc. */
export function openWalDir(opts: ResolvedWalOptions): { resume: ResumeState; report: WalOpenReport } {
  makeDir(opts.dir);
  const files = listSegments(opts.dir);
  if (files.length === 0) return { resume: { lastSeq: 0, sealed: [], active: null }, report: { lastSeq: 0 } };
  const sealed = files.slice(0, -1);
  // The newest sealed segment is always verified (one segment, tens of ms): under `os` a power loss right after
  // a roll can tear it. `verifySealed` extends that to every sealed segment.
  for (let i = opts.verifySealed ? 0 : Math.max(0, sealed.length - 1); i < sealed.length; i++) {
    const scan = scanSegmentFile(sealed[i].file, opts.indexIntervalBytes);
    if (scan.goodEnd < scan.fileBytes) {
      throw new WalCorruptError(sealed[i].file, scan.goodEnd, scan.corrupt?.reason ?? "partial record");
    }
    const expected = files[i + 1].firstSeq - sealed[i].firstSeq;
    if (scan.count !== expected) {
      throw new WalCorruptError(
        sealed[i].file,
        scan.goodEnd,
        `${scan.count} records where the next segment's name implies ${expected}`,
      );
    }
  }
  const last = files[files.length - 1];
  const scan = scanSegmentFile(last.file, opts.indexIntervalBytes);
  const report: WalOpenReport = { lastSeq: last.firstSeq + scan.count - 1 };
  if (scan.goodEnd < scan.fileBytes) {
    cutAt(last.file, scan.goodEnd);
    report.truncated = {
      file: last.file,
      offset: scan.goodEnd,
      reason: scan.corrupt?.reason ?? "partial record at the tail",
      bytesCut: scan.fileBytes - scan.goodEnd,
    };
  }
  return {
    resume: {
      lastSeq: report.lastSeq,
      sealed: sealed.map((s) => ({ file: s.file, firstSeq: s.firstSeq, bytes: statSync(s.file).size })),
      active: { firstSeq: last.firstSeq, bytes: scan.goodEnd, index: scan.index },
    },
    report,
  };
}

/** Truncates `file` to `length` bytes, durably, before anything is appended after the cut. */
export function cutAt(file: string, length: number): void {
  const fd = openSync(file, "r+");
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
