/**
 * Holes: seq ranges the WAL no longer holds and never will — acked ticks lost to corruption that the
 * operator chose to give up (`tickring wal repair --truncate-at-corruption`). Records carry no seq (a
 * record's seq is its segment's first seq plus its index), so a hole is the space between the segment that
 * ends before it and the one that starts after it, recorded in a file of its own, `<from>.hole`:
 *
 * ```
 *  {"from":2001,"to":4755,"reason":"lost","recordedAt":"2026-11-28T08:00:00.000Z"}
 * ```
 *
 * The record makes the hole explicit: open and readers know these seqs are gone (readers report them as a
 * gap) rather than missing (a lost segment, an error), and the writer resumes after `to`, so no seq in a
 * hole is ever handed out again. A hole file is written once (temp file, rename, directory fsync) and kept —
 * retention leaves it when it removes the segments around it (a few bytes per repair), so history read from
 * the store can still tell seqs lost for good from seqs merely unreadable.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WalCorruptError } from "../errors.js";
import { syncDirSync } from "../make-dir.js";
import { holePath, namesIn } from "./files.js";

/** One recorded hole: seqs `from`..`to`, both included. */
export interface WalHole {
  from: number;
  to: number;
  /** The record (`<from>.hole`). */
  file: string;
}

const HOLE_RE = /^(\d{12,})\.hole$/;

/** The holes recorded in `dir`, in seq order (none when the directory is absent). */
export function listHoles(dir: string): WalHole[] {
  const out: WalHole[] = [];
  for (const name of namesIn(dir)) {
    const m = HOLE_RE.exec(name);
    if (m === null) continue;
    const file = join(dir, name);
    const from = Number(m[1]);
    let to: unknown;
    try {
      to = (JSON.parse(readFileSync(file, "utf8")) as { to?: unknown }).to;
    } catch (err) {
      throw new WalCorruptError(file, 0, `unreadable hole record: ${(err as Error).message}`);
    }
    if (typeof to !== "number" || !Number.isSafeInteger(to) || to < from) {
      throw new WalCorruptError(file, 0, `hole record without a valid "to" ≥ ${from}`);
    }
    out.push({ from, to, file });
  }
  return out.sort((a, b) => a.from - b.from);
}

/** Records the hole `from`..`to` in `dir`, durably; returns its file. */
export function writeHole(dir: string, from: number, to: number): string {
  const file = holePath(dir, from);
  const tmp = `${file}.partial`;
  const json = JSON.stringify({ from, to, reason: "lost", recordedAt: new Date().toISOString() });
  writeFileSync(tmp, `${json}\n`, { flush: true });
  renameSync(tmp, file);
  syncDirSync(dir);
  return file;
}

/** The hole starting at `seq`, if one does. */
export function holeAt(holes: readonly WalHole[], seq: number): WalHole | undefined {
  return holes.find((h) => h.from === seq);
}

/** The hole holding `seq`, if one does. */
export function holeCovering(holes: readonly WalHole[], seq: number): WalHole | undefined {
  return holes.find((h) => h.from <= seq && seq <= h.to);
}
