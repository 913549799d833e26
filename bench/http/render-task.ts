/**
 * The piscina side of bench/http's "where does history rendering run" comparison: a pool thread reads the
 * range from history, renders it (frames as NDJSON, or 1-minute bars computed from its trades) and streams
 * the text to the socket thread over a MessagePort, in chunks like the HTTP answer's.
 */
import type { MessagePort } from "node:worker_threads";
import { Store } from "../../src/storage/index.js";
import { BarQuery } from "../../src/subscriber/bar-query.js";
import { FrameFilter } from "../../src/subscriber/frame-filter.js";
import { barJson } from "../../src/subscriber/frame-text.js";
import { renderHistory } from "../../src/subscriber/history-text.js";
import { scanRange } from "../../src/subscriber/seq-range.js";

export interface RenderTask {
  walDir: string;
  storeDir: string;
  toSeq: number;
  what: "ndjson" | "bars";
  port: MessagePort;
}

const CHUNK = 64 * 1024;

export default async function renderTask({
  walDir,
  storeDir,
  toSeq,
  what,
  port,
}: RenderTask): Promise<number> {
  let store: Promise<Store> | undefined;
  const history = { walDir, store: () => (store ??= Store.open({ dir: storeDir })) };
  const range = { fromSeq: 1, toSeq, toTimeNs: Number.POSITIVE_INFINITY };
  let buf = "";
  let records = 0;
  const out = (text: string): undefined => {
    buf += text;
    if (buf.length >= CHUNK) {
      port.postMessage(buf);
      buf = "";
    }
    return undefined;
  };
  if (what === "ndjson") {
    records = await renderHistory(
      history,
      range,
      { symbols: null, types: null, bars: null, format: "ndjson", limit: Number.MAX_SAFE_INTEGER },
      out,
    );
  } else {
    const trades = new FrameFilter(null, ["trade"]);
    const q = new BarQuery(60e9, (symbol, endNs, bar, revision) => {
      records++;
      return out(barJson(symbol.json, 60e9, endNs, bar, revision) + "\n");
    });
    await scanRange(history, range, (bytes, off) => {
      if (trades.matches(bytes, off)) q.add(bytes, off);
      return true;
    });
    await q.finish();
  }
  port.postMessage(buf);
  port.postMessage(null);
  port.close();
  await (await store)?.close();
  return records;
}
