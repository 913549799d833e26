/**
 * The rendering bench/http times, in place and on a pool thread alike: a range as NDJSON (the frames'
 * JSON, as `GET /v1/history` renders it), or as 1-minute bars computed from its trades (as `GET /v1/bars`
 * does), into a sink that hands each chunk on and never waits.
 */
import { JsonRenderer } from "../../src/frame/json-render.js";
import { BarQuery } from "../../src/subscriber/bar-query.js";
import { FrameFilter } from "../../src/subscriber/frame-filter.js";
import { barJson } from "../../src/subscriber/frame-text.js";
import type { HistorySources } from "../../src/subscriber/history.js";
import { renderHistory } from "../../src/subscriber/history-text.js";
import { scanRange, type SeqRange } from "../../src/subscriber/seq-range.js";
import { type RecordSink, TextChunks } from "../../src/subscriber/text-chunks.js";

/** A sink that gives each full chunk to `chunk` (and the rest at {@link render}'s end). */
export function countingSink(chunk: (bytes: number) => void): RecordSink & { out: (c: Uint8Array) => void } {
  const chunks = new TextChunks(new JsonRenderer());
  return {
    chunks,
    out: (c) => chunk(c.length),
    pace() {
      if (chunks.full) chunk(chunks.take().length);
      return true;
    },
  };
}

/** Renders `range` as `what` into `sink`; returns the records (frames, or bars) written. */
export async function render(
  history: HistorySources,
  range: SeqRange,
  what: "ndjson" | "bars",
  sink: RecordSink & { out: (c: Uint8Array) => void },
): Promise<number> {
  let records = 0;
  const noGap = () => {
    throw new Error("the benchmark's data has no gap");
  };
  if (what === "ndjson") {
    records = await renderHistory(
      history,
      range,
      { symbols: null, types: null, bars: null, format: "ndjson", limit: Number.MAX_SAFE_INTEGER },
      sink,
      noGap,
    );
  } else {
    const trades = new FrameFilter(null, ["trade"]);
    const q = new BarQuery(60e9, (symbol, endNs, bar, revision) => {
      records++;
      sink.chunks.text(barJson(symbol.json, 60e9, endNs, bar, revision) + "\n");
    });
    await scanRange(
      history,
      range,
      (bytes, off) => {
        if (trades.matches(bytes, off)) q.add(bytes, off);
        return sink.pace();
      },
      noGap,
    );
    await q.finish(() => sink.pace());
  }
  sink.out(sink.chunks.take());
  return records;
}
