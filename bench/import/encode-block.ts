/**
 * The CPU part of `tickring import csv` on one block of CSV text, as bench/import times it in place and on a
 * piscina pool thread: parse the rows (papaparse), check each by the ingest rules (RowTicks) and encode it
 * as a frame with seq and ts_recv 0 — what the import's check does per row before the frames are stamped
 * in order (seq, and ts_recv kept non-decreasing) and appended.
 */
import Papa from "papaparse";
import { type RowOptions, RowTicks } from "../../src/cli/import/row-ticks.js";
import { FrameEncoder } from "../../src/frame/codec.js";

/** The block's frames back to back, and how many. */
export interface EncodedBlock {
  frames: Uint8Array;
  count: number;
}

/** Blocks of whole lines of about this many characters (what the import reads at once: a MiB). */
export const BLOCK_CHARS = 1 << 20;

/** `text` (a header line first) in blocks of whole lines, the header left out. */
export function textBlocks(text: string): string[] {
  const blocks: string[] = [];
  let at = text.indexOf("\n") + 1;
  while (at < text.length) {
    let end = text.indexOf("\n", Math.min(text.length - 1, at + BLOCK_CHARS));
    if (end < 0) end = text.length;
    blocks.push(text.slice(at, end));
    at = end + 1;
  }
  return blocks;
}

const encoder = new FrameEncoder();

export function encodeBlock(text: string, rows: RowOptions): EncodedBlock {
  const rt = new RowTicks(rows);
  const cells = Papa.parse<string[]>(text).data as string[][];
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (let i = 0; i < cells.length; i++) {
    const f = encoder.encode(rt.toTick(cells[i], `block:${i + 1}`), 0n, 0n).slice();
    parts.push(f);
    bytes += f.length;
  }
  const frames = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    frames.set(p, at);
    at += p.length;
  }
  return { frames, count: cells.length };
}
