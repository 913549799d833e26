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
 * What the subscribers do with each tick: `--format flatbuffers` (binary frames; only ts_event is read
 * unless `--decode`, which decodes every field) or `json` (every tick `JSON.parse`d; tickring sends
 * JSON when the `--subscribe` request asks for it, NATS subscribers get the payload the publisher wrote).
 *
 * Publishing (process 0): paced at `--rate` ticks/s; with `--rate 0`, saturation — with `--window W`
 * the windowed publisher (window-publisher.ts: batches of `--batch` trades, at most W ticks unacked,
 * tickring or NATS), else (e2e) quote batches as fast as subscriber 0 takes them. With `--count-by
 * receive` a frame counts when it is received inside the measured window (throughput at saturation),
 * by default when it was stamped inside it.
 *
 *   node dist/bench/e2e/load.js --system tickring|baseline|nats --feed URL --clients N
 *        [--ingest URL --publish --rate R|0 [--window W --batch B]] [--subscribe JSON]
 *        [--format flatbuffers|json] [--decode] [--count-by stamp|receive]
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { build, encodeIntoCompressedBase64 } from "hdr-histogram-js";
import WebSocket from "ws";
import { frameLength, frameTsEventApprox } from "../../src/frame/codec.js";
import { CONNECT_LINE, NatsParser } from "../peers/nats-protocol.js";
import { decodeFrame, parseJson } from "./decode.js";
import type { PublisherData } from "./publisher.worker.js";
import { encodeTicks, type TickFormat } from "./ticks.js";
import type { WindowedPublish, WindowedRun } from "./window-publisher.js";

const { values } = parseArgs({
  options: {
    system: { type: "string", default: "tickring" },
    ingest: { type: "string" },
    feed: { type: "string" },
    clients: { type: "string", default: "1" },
    rate: { type: "string", default: "10000" },
    publish: { type: "boolean", default: false },
    subscribe: { type: "string" },
    format: { type: "string", default: "flatbuffers" },
    decode: { type: "boolean", default: false },
    window: { type: "string" },
    batch: { type: "string", default: "100" },
    "count-by": { type: "string", default: "stamp" },
  },
});
const system = values.system as "tickring" | "baseline" | "nats";
const clients = Number(values.clients);
const rate = Number(values.rate);
const format = values.format as TickFormat;
const readTsEvent = values.decode ? decodeFrame : frameTsEventApprox;
const countByReceive = values["count-by"] === "receive";
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
  /** Frames the server said it skipped for these connections (tickring `gap` messages). */
  skipped: number;
  /** Connections the server closed before the end (e.g. NATS slow-consumer disconnects). */
  closed: number;
  /** The windowed publisher's run (process 0 with `--window`). */
  publisher?: WindowedRun;
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

let skipped = 0;
let closed = 0;
let ended = false;

function onTick(ts: number, now: number, first: boolean): void {
  if (ts === 0) return; // heartbeats
  if (first) receivedByFirst++;
  const t = countByReceive ? now : ts;
  if (t < measureFrom || t >= measureTo) return;
  histogram.recordValue(Math.max(1, now - ts));
  delivered++;
}

/** A binary message: size-prefixed frames back to back (tickring) or one frame (a NATS payload). */
function onFrames(data: Buffer, first: boolean): void {
  const now = Number(process.hrtime.bigint());
  for (let off = 0; off < data.length; off += frameLength(data, off))
    onTick(readTsEvent(data, off), now, first);
}

/** A JSON text message: a tick, an array of them, or a tickring control message (a `gap` is counted). */
function onJson(bytes: Buffer, first: boolean): void {
  const now = Number(process.hrtime.bigint());
  const m = parseJson(bytes);
  if (Array.isArray(m)) for (const t of m) onTick(Number(t.ts_event), now, first);
  else if (m.op === undefined) onTick(Number(m.ts_event), now, first);
  else if (m.op === "gap") skipped += m.to! - m.from! + 1;
}

function onClose(): void {
  if (!ended) closed++;
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
    else onJson(data, first);
  });
  ws.on("close", onClose);
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
      // A connection closed before the answer would otherwise leave the run waiting forever.
      ws.once("close", (code: number, reason: Buffer) =>
        reject(new Error(`subscribe failed: the connection closed (${code} ${reason.toString()})`)),
      );
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
      onMsg: format === "json" ? (payload) => onJson(payload, first) : (payload) => onFrames(payload, first),
      reply: (d) => ws.send(d),
      onInfo: () => ws.send(`${CONNECT_LINE}SUB ticks.> 1\r\nPING\r\n`),
      onPong: resolve,
      onErr: (line) => process.stderr.write(`load: ${line}\n`),
    });
    ws.on("message", (data: Buffer) => parser.push(data));
    ws.once("error", reject);
    ws.on("close", onClose);
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
let publisherRun: WindowedRun | undefined;

/** Runs a publisher worker; resolves with what it posts. */
function runWorker<T>(file: string, workerData: unknown): Promise<T> {
  const worker = new Worker(new URL(file, import.meta.url), { workerData });
  return new Promise<T>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

if (values.publish && rate > 0) {
  const data: PublisherData = { ingest: values.ingest!, rate, endNs: go.endNs, startNs: go.startNs };
  sent = await runWorker<number>("./publisher.worker.js", data);
} else if (values.publish && values.window !== undefined) {
  const data: WindowedPublish = {
    url: values.ingest!,
    format,
    batch: Number(values.batch),
    window: Number(values.window),
    startNs: BigInt(go.startNs),
    endNs: end,
  };
  publisherRun = await runWorker<WindowedRun>("./window-publisher.worker.js", data);
  sent = publisherRun.acked;
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
ended = true;
const cpu = process.cpuUsage(cpu0);

const result: LoadProcessResult = {
  sent,
  delivered,
  histogram: encodeIntoCompressedBase64(histogram),
  cpu: Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100) / 100,
  skipped,
  closed,
  publisher: publisherRun,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
for (const ws of subs) ws.terminate();
process.exit(0);
