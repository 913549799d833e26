/**
 * The e2e baseline: what a user would write without tickring. The main thread takes ingest on a `ws`
 * server and forwards each message with `postMessage` (a copy) to a worker thread, whose own `ws` server
 * broadcasts it to every subscriber. No persistence, no sequencing, no filtering: a lower bound on the
 * work a real server does, so its figures flatter the baseline.
 *
 *   node dist/bench/e2e/baseline-server.js   → prints {"ingestPort":…,"feedPort":…} when listening
 */
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { WebSocketServer } from "ws";

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
  const feedPort = await new Promise<number>((resolve) => worker.once("message", resolve));
  const ingest = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise((resolve) => ingest.once("listening", resolve));
  let seq = 0;
  ingest.on("connection", (ws) => {
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary) return;
      worker.postMessage(data);
      ws.send(`{"op":"ack","seq":${++seq}}`);
    });
  });
  console.log(JSON.stringify({ ingestPort: (ingest.address() as { port: number }).port, feedPort }));
  process.on("SIGTERM", () => process.exit(0));
} else {
  const feed = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise((resolve) => feed.once("listening", resolve));
  parentPort!.on("message", (data: Uint8Array) => {
    for (const client of feed.clients) client.send(data, { binary: true });
  });
  parentPort!.postMessage((feed.address() as { port: number }).port);
}
