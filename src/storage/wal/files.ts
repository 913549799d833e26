/**
 * Segment file names and listing: `<first-seq, 12 digits>.log` with its sparse index `<first-seq>.idx`, and
 * the names of holes (`<first-seq>.hole`, see ./holes.ts). Zero-padded names sort in seq order as strings,
 * so `ls` shows the WAL in order.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const SEQ_DIGITS = 12;
const SEGMENT_RE = /^(\d{12,})\.log$/;

/** One segment as found on disk. */
export interface SegmentFile {
  /** Absolute path of the `.log` file. */
  file: string;
  /** Seq of its first record (from the name). */
  firstSeq: number;
}

/** File name (no directory) of the segment whose first record has `firstSeq`. */
export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(SEQ_DIGITS, "0")}.log`;
}

/** Path of the segment whose first record has `firstSeq`. */
export function segmentPath(dir: string, firstSeq: number): string {
  return join(dir, segmentName(firstSeq));
}

/** Path of the record of a hole whose first seq is `from`. */
export function holePath(dir: string, from: number): string {
  return join(dir, `${String(from).padStart(SEQ_DIGITS, "0")}.hole`);
}

/** Path of the sparse index beside a segment. */
export function indexPathOf(segmentFile: string): string {
  return `${segmentFile.slice(0, -".log".length)}.idx`;
}

/** The names in `dir`; none when it is absent. */
export function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** Segments of `dir` in seq order; an absent directory has none. */
export function listSegments(dir: string): SegmentFile[] {
  const out: SegmentFile[] = [];
  for (const name of namesIn(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (m !== null) out.push({ file: join(dir, name), firstSeq: Number(m[1]) });
  }
  out.sort((a, b) => a.firstSeq - b.firstSeq);
  return out;
}
