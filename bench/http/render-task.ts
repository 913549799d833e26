/**
 * The piscina side of bench/http's "where does history rendering run" comparison: a pool thread reads the
 * range from history, renders it (bench/http/render.ts) and streams the bytes to the socket thread over a
 * MessagePort, a chunk a message (transferred, not copied), as the HTTP answer's chunks.
 */
import type { MessagePort } from "node:worker_threads";
import { JsonRenderer } from "../../src/frame/json-render.js";
import { Store } from "../../src/storage/index.js";
import { TextChunks } from "../../src/subscriber/text-chunks.js";
import { render } from "./render.js";

export interface RenderTask {
  walDir: string;
  storeDir: string;
  toSeq: number;
  what: "ndjson" | "bars";
  port: MessagePort;
}

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
  const chunks = new TextChunks(new JsonRenderer());
  const out = (chunk: Uint8Array) => {
    const own = chunk.slice();
    port.postMessage(own, [own.buffer]);
  };
  const records = await render(history, range, what, {
    chunks,
    out,
    pace() {
      if (chunks.full) out(chunks.take());
      return true;
    },
  });
  port.postMessage(null);
  port.close();
  await (await store)?.close();
  return records;
}
