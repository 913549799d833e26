/**
 * A range of history as text — NDJSON, a JSON array or CSV — for `GET /v1/history` and `tickring export
 * --data`: the frames of the range that the filter takes, rendered by {@link FrameText}, handed to `out` a
 * record at a time. `out` returns a promise when the reader must wait (the client or the file is behind):
 * memory is one read buffer whatever the range.
 */
import type { FrameType } from "./frame-filter.js";
import { FrameFilter } from "./frame-filter.js";
import { FrameText, type TextFormat } from "./frame-text.js";
import type { HistorySources } from "./history.js";
import { scanRange, type SeqRange } from "./seq-range.js";

/** What to render of a range. */
export interface HistorySelection {
  symbols: string[] | null;
  types: FrameType[] | null;
  bars: number[] | null;
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

/** Renders `range` of `history` as `sel` says into `out`; returns the records written. */
export async function renderHistory(
  history: HistorySources,
  range: SeqRange,
  sel: HistorySelection,
  out: (text: string) => Promise<unknown> | undefined,
  stopped: () => boolean = () => false,
): Promise<number> {
  const filter = new FrameFilter(sel.symbols, sel.types, sel.bars);
  const text = new FrameText(sel.types);
  const f = FRAMING[sel.format];
  const csv = sel.format === "csv";
  await out(csv ? text.csvHeader() : f.open);
  let n = 0;
  await scanRange(history, range, (bytes, off) => {
    if (stopped()) return false;
    if (!filter.matches(bytes, off)) return true;
    const record = csv ? text.csv(bytes, off) : text.json(bytes, off);
    const wait = out(n++ === 0 ? record + f.end : f.sep + record + f.end);
    if (n >= sel.limit) return false;
    return wait === undefined ? true : wait.then(() => !stopped());
  });
  await out(f.close);
  return n;
}
