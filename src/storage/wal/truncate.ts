/**
 * Cuts the WAL after a seq, offline (no `Wal` open on the directory): what a replica does when its tail is
 * not in the replicated log — a former leader's ticks that never reached the stream, which the new leader's
 * seqs now replace (src/replication). The store is rolled back by the next open (recovery rolls a store
 * that is ahead of the WAL back to it).
 *
 * Crash-safe in its order: newer segments are deleted newest first, then the segment holding `lastSeq` is
 * cut, each step durable before the next, so a crash at any point leaves a gap-free prefix that the next
 * cut (or open) continues from. Hole records past `lastSeq` go last (the writer would resume after them).
 */
import { unlinkSync } from "node:fs";
import { WalSeqRetiredError } from "../errors.js";
import { syncDirSync, unlinkQuietly } from "../make-dir.js";
import { indexPathOf, listSegments } from "./files.js";
import { listHoles } from "./holes.js";
import { cutAt } from "./open.js";
import { WAL_DEFAULTS } from "./options.js";
import { scanSegmentFile } from "./scan.js";

/** What {@link truncateWalAfter} removed. */
export interface WalTruncation {
  /** Seqs cut (0 when the WAL ended at or before `lastSeq`). */
  seqs: number;
  /** Bytes cut from the segment that now ends at `lastSeq`, plus the bytes of every segment deleted. */
  bytes: number;
}

/**
 * Leaves the WAL in `dir` ending at `lastSeq` (0 empties it). Throws {@link WalSeqRetiredError} when
 * `lastSeq` is not 0 and older than the WAL's first seq: the cut would leave a WAL that restarts at 1.
 */
export function truncateWalAfter(dir: string, lastSeq: number): WalTruncation {
  const segments = listSegments(dir);
  if (lastSeq > 0 && segments.length > 0 && lastSeq < segments[0].firstSeq) {
    throw new WalSeqRetiredError(lastSeq, segments[0].firstSeq);
  }
  let seqs = 0;
  let bytes = 0;
  for (let i = segments.length - 1; i >= 0; i--) {
    const { file, firstSeq } = segments[i];
    const scan = scanSegmentFile(file, WAL_DEFAULTS.indexIntervalBytes);
    if (firstSeq > lastSeq) {
      seqs += scan.count;
      bytes += scan.fileBytes;
      unlinkSync(file);
      unlinkQuietly(indexPathOf(file));
      syncDirSync(dir);
      continue;
    }
    const keep = lastSeq - firstSeq + 1;
    if (scan.count > keep) {
      const cut = scanSegmentFile(file, WAL_DEFAULTS.indexIntervalBytes, keep);
      seqs += scan.count - keep;
      bytes += scan.fileBytes - cut.goodEnd;
      cutAt(file, cut.goodEnd);
      // The open rebuilds the last segment's sparse index from its scan; a stale one would point past the cut.
      unlinkQuietly(indexPathOf(file));
    }
    break;
  }
  for (const hole of listHoles(dir)) {
    if (hole.from <= lastSeq) continue;
    unlinkSync(hole.file);
    syncDirSync(dir);
  }
  return { seqs, bytes };
}
