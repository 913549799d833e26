/**
 * Opening the WAL directory: finds the segments and recorded holes, verifies the last segment (and the newest
 * sealed one, or every sealed one with `verifySealed`), cuts a torn tail of the last segment, and works out
 * where the writer resumes. Synchronous: it runs once, before anything is appended.
 *
 * What may be cut: only a torn tail — bad bytes at the end of the last segment with no intact record after
 * them, what a crash leaves of writes never made durable (a roll fdatasyncs the old segment before the next
 * one exists, except under `os`, so a sealed segment is complete). A bad record FOLLOWED by intact ones is
 * corruption, not a crash: cutting there would drop those records, which may have been acked, and later
 * reuse their seqs. Open refuses that with {@link WalCorruptError} naming the file, the offset and the seqs
 * that follow; startup recovery repairs the segment from the store first when it can
 * (src/recovery/wal-repair.ts), and `tickring wal repair` lets the operator decide when it cannot.
 *
 * A bad record in a SEALED segment does not stop the open (the writer never touches those files again): it
 * is reported, and readers skip the unreadable range (as a gap) or fail there.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, statSync } from "node:fs";
import { WalCorruptError } from "../errors.js";
import { makeDir } from "../make-dir.js";
import { scanSegment } from "./damage.js";
import { listSegments } from "./files.js";
import { holeAt, listHoles, type WalHole } from "./holes.js";
import type { ResolvedWalOptions } from "./options.js";
import { scanSegmentFile } from "./scan.js";

/** A sealed segment with records it cannot give back: seqs `fromSeq`..`toSeq` are unreadable from the WAL. */
export interface SealedDamage {
  file: string;
  offset: number;
  reason: string;
  fromSeq: number;
  toSeq: number;
}

/** What {@link Wal.open} found. */
export interface WalOpenReport {
  /** Highest seq in the WAL after the cut (0 when empty); a hole recorded after the last record counts. */
  lastSeq: number;
  /** Set when the last segment had a torn tail, which was cut. */
  truncated?: { file: string; offset: number; reason: string; bytesCut: number };
  /** Sealed segments found damaged (only those verified: the newest sealed one, or all with `verifySealed`). */
  sealedDamage?: SealedDamage[];
}

/** A segment the writer will not write again. */
export interface SealedSegment {
  file: string;
  firstSeq: number;
  /** Seq of its last record. */
  lastSeq: number;
  bytes: number;
}

/** Where the writer resumes after {@link openWalDir}. */
export interface ResumeState {
  /** Highest seq in the WAL (0 when empty). */
  lastSeq: number;
  /** Every segment but the last, oldest first. */
  sealed: SealedSegment[];
  /**
   * The last segment, which the writer continues; null when the WAL has no segment yet, or when a hole was
   * recorded after its last one (the writer then starts a segment at `lastSeq + 1`).
   */
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
  const holes = listHoles(opts.dir);
  if (files.length === 0) {
    const lastSeq = holes.length === 0 ? 0 : holes[holes.length - 1].to;
    return { resume: { lastSeq, sealed: [], active: null }, report: { lastSeq } };
  }
  const report: WalOpenReport = { lastSeq: 0 };
  const sealed: SealedSegment[] = [];
  for (let i = 0; i < files.length - 1; i++) {
    const s = files[i];
    // A sealed segment ends where the next segment, or a hole recorded between them, begins.
    const hole = holes.find((h) => h.from > s.firstSeq && h.from < files[i + 1].firstSeq);
    const lastSeq = (hole?.from ?? files[i + 1].firstSeq) - 1;
    sealed.push({ file: s.file, firstSeq: s.firstSeq, lastSeq, bytes: statSync(s.file).size });
    // The newest sealed segment is always verified (one segment, tens of ms): under `os` a power loss right
    // after a roll can tear it. `verifySealed` extends that to every sealed segment.
    if (opts.verifySealed || i === files.length - 2) {
      const damage = verifySealed(s.file, s.firstSeq, lastSeq, opts.indexIntervalBytes);
      if (damage !== null) (report.sealedDamage ??= []).push(damage);
    }
  }
  const last = files[files.length - 1];
  const scan = scanSegment(last.file, last.firstSeq, opts.indexIntervalBytes);
  if (scan.after.length > 0) {
    const first = scan.after[0];
    const end = scan.after[scan.after.length - 1];
    throw new WalCorruptError(
      last.file,
      scan.goodEnd,
      `${scan.corrupt?.reason ?? "bad record"} at seq ${last.firstSeq + scan.count}, and intact records of ` +
        `seqs ${first.firstSeq}..${end.firstSeq + end.count - 1} follow: not a torn tail, so not cut ` +
        `(tickring wal repair)`,
    );
  }
  report.lastSeq = last.firstSeq + scan.count - 1;
  if (scan.goodEnd < scan.fileBytes) {
    cutAt(last.file, scan.goodEnd);
    report.truncated = {
      file: last.file,
      offset: scan.goodEnd,
      reason: scan.corrupt?.reason ?? "partial record at the tail",
      bytesCut: scan.fileBytes - scan.goodEnd,
    };
  }
  let active: ResumeState["active"] = { firstSeq: last.firstSeq, bytes: scan.goodEnd, index: scan.index };
  const after: WalHole | undefined = holeAt(holes, report.lastSeq + 1);
  if (after !== undefined) {
    // A repair recorded a hole after the last record and stopped before starting the next segment.
    sealed.push({ file: last.file, firstSeq: last.firstSeq, lastSeq: report.lastSeq, bytes: scan.goodEnd });
    report.lastSeq = after.to;
    active = null;
  }
  return { resume: { lastSeq: report.lastSeq, sealed, active }, report };
}

/** The damage of a sealed segment meant to hold `firstSeq`..`lastSeq`, or null when it is whole. */
function verifySealed(
  file: string,
  firstSeq: number,
  lastSeq: number,
  indexIntervalBytes: number,
): SealedDamage | null {
  const scan = scanSegmentFile(file, indexIntervalBytes);
  const expected = lastSeq - firstSeq + 1;
  if (scan.goodEnd === scan.fileBytes && scan.count === expected) return null;
  const reason =
    scan.goodEnd < scan.fileBytes
      ? (scan.corrupt?.reason ?? "partial record")
      : `${scan.count} records where the next segment's name implies ${expected}`;
  // Extra bytes after every expected record cost no seq: the range is then empty (fromSeq = toSeq + 1).
  return {
    file,
    offset: scan.goodEnd,
    reason,
    fromSeq: Math.min(firstSeq + scan.count, lastSeq + 1),
    toSeq: lastSeq,
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
