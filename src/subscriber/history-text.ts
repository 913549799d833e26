/**
 * A range of history as text — NDJSON, a JSON array or CSV — for `GET /v1/history` and `tickring export
 * --data`: the frames of the range that the filter takes, JSON rendered by the feeds' renderer and CSV by
 * {@link FrameText}, written into a {@link RecordSink} that paces the reading (the client or the file is
 * behind): memory is one read buffer and a chunk or two whatever the range.
 *
 * Seqs that cannot be read (retired, unreadable, lost) are said where they fall, as the WebSocket says them:
 * a record `{"op":"gap","from":a,"to":b,"reason":…}` in NDJSON and JSON, a line `#gap,a,b,reason` in CSV
 * (which `tickring import csv` skips).
 */
import { FrameFilter, type FrameType, type SymbolAllow } from "./frame-filter.js";
import { FrameText, type TextFormat } from "./frame-text.js";
import type { HistorySources } from "./history.js";
import type { GapReason } from "./ring-pump.js";
import { scanRange, type SeqRange } from "./seq-range.js";
import type { RecordSink } from "./text-chunks.js";

/** What to render of a range. */
export interface HistorySelection {
  symbols: string[] | null;
  types: FrameType[] | null;
  bars: number[] | null;
  /** For `*`: the symbols a token may read (undefined: every one). */
  allow?: SymbolAllow;
  format: TextFormat;
  /** Records at most. */
  limit: number;
}

/** How records of one format are put together: before the first, between two, after each, after the last. */
export const FRAMING: Record<TextFormat, { open: string; sep: string; end: string; close: string }> = {
  ndjson: { open: "", sep: "", end: "\n", close: "" },
  csv: { open: "", sep: "", end: "", close: "" },
  json: { open: "[", sep: ",", end: "", close: "]\n" },
};

/** The text of a gap in `format` (without the separator before it). */
export function gapText(format: TextFormat, from: number, to: number, reason: GapReason): string {
  return format === "csv"
    ? `#gap,${from},${to},${reason}\n`
    : `{"op":"gap","from":${from},"to":${to},"reason":"${reason}"}${FRAMING[format].end}`;
}

/**
 * Renders `range` of `history` as `sel` says into `sink`, opening and closing the text; returns the frames
 * written. `onGap` hears of each gap too (the CLI says them on stderr).
 */
export async function renderHistory(
  history: HistorySources,
  range: SeqRange,
  sel: HistorySelection,
  sink: RecordSink,
  onGap?: (from: number, to: number, reason: GapReason) => void,
): Promise<number> {
  const filter = new FrameFilter(sel.symbols, sel.types, sel.bars, sel.allow);
  const text = new FrameText(sel.types);
  const f = FRAMING[sel.format];
  const csv = sel.format === "csv";
  const out = sink.chunks;
  out.text(csv ? text.csvHeader() : f.open);
  let records = 0;
  let n = 0;
  await scanRange(
    history,
    range,
    (bytes, off) => {
      if (!filter.matches(bytes, off)) return sink.pace();
      if (records++ > 0 && f.sep !== "") out.text(f.sep);
      if (csv) out.text(text.csv(bytes, off));
      else {
        out.frameJson(bytes, off);
        if (f.end !== "") out.text(f.end);
      }
      return ++n >= sel.limit ? false : sink.pace();
    },
    (from, to, reason) => {
      if (records++ > 0 && f.sep !== "") out.text(f.sep);
      out.text(gapText(sel.format, from, to, reason));
      onGap?.(from, to, reason);
    },
  );
  out.text(f.close);
  return n;
}
