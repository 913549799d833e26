/**
 * One e2e load process: opens its share of the subscriber connections and, if it is the publishing
 * process, publishes paced ticks (publisher.worker.ts) or, with rate 0, as fast as its first subscriber
 * takes them. It measures the latency of every frame it receives, receive time − the frame's ts_event,
 * where ts_event is the tick's *intended* send time (the paced slot's due time): a late or blocked
 * publisher shows up as latency (no coordinated omission).
 *
 * Several of these run side by side (load-group.ts starts them); they agree on time through
 * `process.hrtime` (CLOCK_MONOTONIC, shared by every process of the machine). Protocol on stdio:
 *   stdout `{"ready":true}` once every subscription is confirmed;
 *   stdin  `{"startNs","measureFromNs","endNs"}` (hrtime ns as decimal strings): publish from startNs to
 *          endNs; count only frames stamped in [measureFromNs, endNs);
 *   stdout one result line with the HDR histogram (compressed base64) for the coordinator to merge.
 *
 *   node dist/bench/e2e/load.js --system tickring|baseline|nats --feed URL --clients N
 *        [--ingest URL --publish --rate R|0] [--subscribe JSON]
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { build, encodeIntoCompressedBase64 } from "hdr-histogram-js";
import WebSocket from "ws";
import { frameLength, frameTsEventApprox } from "../../src/frame/codec.js";
import { CONNECT_LINE, NatsParser } from "../peers/nats-protocol.js";
import type { PublisherData } from "./publisher.worker.js";
import { encodeTicks } from "./ticks.js";

const { values } = parseArgs({
  options: {
    system: { type: "string", default: "tickring" },
    ingest: { type: "string" },
    feed: { type: "string" },
    clients: { type: "string", default: "1" },
    rate: { type: "string", default: "10000" },
    publish: { type: "boolean", default: false },
    subscribe: { type: "string" },
  },
});
const system = values.system as "tickring" | "baseline" | "nats";
const clients = Number(values.clients);
const rate = Number(values.rate);
/** Ticks per publisher message when unpaced, and ticks in flight to subscriber 0 before waiting. */
const UNPACED_BATCH = 200;
const UNPACED_WINDOW = 20_000;
/** After endNs, how long frames still in flight are awaited. */
const DRAIN_MS = 300;

export interface LoadProcessResult {
  sent: number;
  delivered: number;
  /** hdr-histogram-js compressed base64 of latencies in ns. */
  histogram: string;
  /** Share of one core this process used between go and the end of the drain. */
  cpu: number;
}

const histogram = build({
  numberOfSignificantValueDigits: 3,
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000_000,
});
let measureFrom = Number.POSITIVE_INFINITY;
let measureTo = Number.POSITIVE_INFINITY;
let delivered = 0;
/** Frames subscriber 0 has received, measured or not: paces the saturation window. */
let receivedByFirst = 0;

function onFrames(data: Buffer, first: boolean): void {
  const now = Number(process.hrtime.bigint());
  for (let off = 0; off < data.length; off += frameLength(data, off)) {
    const ts = frameTsEventApprox(data, off);
    if (ts === 0) continue; // heartbeats
    if (first) receivedByFirst++;
    if (ts < measureFrom || ts >= measureTo) continue;
    histogram.recordValue(Math.max(1, now - ts));
    delivered++;
  }
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return ws;
}

/** A tickring or baseline subscriber: binary messages of size-prefixed frames. */
async function openFeed(first: boolean): Promise<WebSocket> {
  const ws = await open(values.feed!);
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) onFrames(data, first);
  });
  if (values.subscribe !== undefined) {
    ws.send(values.subscribe);
    await new Promise<void>((resolve, reject) => {
      const onText = (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        const text = data.toString();
        if (text.includes('"subscribed"')) {
          ws.off("message", onText);
          resolve();
        } else if (text.includes('"error"')) reject(new Error(`subscribe failed: ${text}`));
      };
      ws.on("message", onText);
    });
  }
  return ws;
}

/**
 * A NATS subscriber on the server's WebSocket listener: `SUB ticks.>`, one frame per MSG payload. The
 * handler is attached before the socket opens: the server's INFO can arrive with the upgrade response.
 */
async function openNatsFeed(first: boolean): Promise<WebSocket> {
  const ws = new WebSocket(values.feed!, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    const parser = new NatsParser({
      onMsg: (payload) => onFrames(payload, first),
      reply: (d) => ws.send(d),
      onInfo: () => ws.send(`${CONNECT_LINE}SUB ticks.> 1\r\nPING\r\n`),
      onPong: resolve,
    });
    ws.on("message", (data: Buffer) => parser.push(data));
    ws.once("error", reject);
  });
  return ws;
}

const subs: WebSocket[] = [];
for (let c = 0; c < clients; c++) {
  subs.push(system === "nats" ? await openNatsFeed(c === 0) : await openFeed(c === 0));
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

const go = await new Promise<{ startNs: string; measureFromNs: string; endNs: string }>((resolve) =>
  createInterface({ input: process.stdin }).once("line", (l) => resolve(JSON.parse(l))),
);
measureFrom = Number(go.measureFromNs);
measureTo = Number(go.endNs);
const end = BigInt(go.endNs);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
let sent = 0;

if (values.publish && rate > 0) {
  const data: PublisherData = {
    ingest: values.ingest!,
    rate,
    endNs: go.endNs,
    startNs: go.startNs,
    transport: system === "nats" ? "nats" : "ws",
  };
  const publisher = new Worker(new URL("./publisher.worker.js", import.meta.url), { workerData: data });
  sent = await new Promise<number>((resolve, reject) => {
    publisher.once("message", resolve);
    publisher.once("error", reject);
  });
} else if (values.publish) {
  if (system === "nats") throw new Error("saturation (rate 0) is not implemented for nats");
  const encodeBatch = (n: number, tsEvent: bigint): Buffer => {
    const batch = Buffer.concat(encodeTicks(sent, n, tsEvent));
    sent += n;
    return batch;
  };
  // Saturation: as fast as subscriber 0 takes frames, with a bounded number in flight.
  const pub = await open(values.ingest!);
  const start = BigInt(go.startNs);
  while (process.hrtime.bigint() < start) await new Promise((r) => setTimeout(r, 1));
  for (let now = process.hrtime.bigint(); now < end; now = process.hrtime.bigint()) {
    if (sent - receivedByFirst < UNPACED_WINDOW) pub.send(encodeBatch(UNPACED_BATCH, now));
    else await new Promise((r) => setImmediate(r));
  }
  pub.close();
} else {
  const waitMs = Number(end - process.hrtime.bigint()) / 1e6;
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}
await new Promise((r) => setTimeout(r, DRAIN_MS));
const cpu = process.cpuUsage(cpu0);

const result: LoadProcessResult = {
  sent,
  delivered,
  histogram: encodeIntoCompressedBase64(histogram),
  cpu: Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100) / 100,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
for (const ws of subs) ws.terminate();
process.exit(0);
