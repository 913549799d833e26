/**
 * The e2e load process: opens N subscriber connections and one publisher, publishes paced ticks (or as
 * fast as the subscribers take them), and measures ingest → receive latency of every frame.
 *
 * Paced: a publisher thread (publisher.worker.ts) sends one message per 1 ms slot (rate/1000 ticks) and
 * stamps every tick with the slot's *scheduled* time, so a late or blocked publisher shows up as latency
 * (no coordinated omission), while the slot itself adds nothing. Saturation: this thread publishes as fast
 * as subscriber 0 takes frames. Times are `process.hrtime` ns, one clock for every thread of the process.
 * Prints one JSON result line.
 *
 *   node dist/bench/e2e/load.js --ingest URL --feed URL --clients N --rate R|0 --seconds S [--subscribe JSON]
 */
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { build } from "hdr-histogram-js";
import WebSocket from "ws";
import { FrameEncoder, frameLength, frameTsEventApprox, type Tick } from "../../src/frame/codec.js";
import type { PublisherData } from "./publisher.worker.js";

const { values } = parseArgs({
  options: {
    ingest: { type: "string" },
    feed: { type: "string" },
    clients: { type: "string", default: "1" },
    rate: { type: "string", default: "10000" },
    seconds: { type: "string", default: "3" },
    warmup: { type: "string", default: "0.5" },
    subscribe: { type: "string" },
  },
});
const clients = Number(values.clients);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
/** Ticks per publisher message when unpaced, and ticks in flight to subscriber 0 before waiting. */
const UNPACED_BATCH = 200;
const UNPACED_WINDOW = 20_000;
const SYMBOLS = Array.from({ length: 64 }, (_, i) => `SYM${i}`);

const histogram = build({
  numberOfSignificantValueDigits: 3,
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000_000,
});
let measuring = false;
let delivered = 0;
/** Frames subscriber 0 has received, measured or not: paces the saturation window. */
let receivedByFirst = 0;

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return ws;
}

const subs: WebSocket[] = [];
for (let c = 0; c < clients; c++) {
  const ws = await open(values.feed!);
  const first = c === 0;
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const now = Number(process.hrtime.bigint());
    for (let off = 0; off < data.length; off += frameLength(data, off)) {
      const ts = frameTsEventApprox(data, off);
      if (ts === 0) continue;
      if (first) receivedByFirst++;
      if (!measuring) continue;
      histogram.recordValue(Math.max(1, now - ts));
      delivered++;
    }
  });
  if (values.subscribe !== undefined) {
    ws.send(values.subscribe);
    await new Promise<void>((resolve) => {
      const onText = (data: Buffer, isBinary: boolean) => {
        if (!isBinary && data.toString().includes('"subscribed"')) {
          ws.off("message", onText);
          resolve();
        }
      };
      ws.on("message", onText);
    });
  }
  subs.push(ws);
}

const encoder = new FrameEncoder();
let sent = 0;

/** `n` quote ticks, all stamped `tsEvent`. */
function encodeBatch(n: number, tsEvent: bigint): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const k = sent + i;
    const tick: Tick = {
      type: "quote",
      symbol: SYMBOLS[k % SYMBOLS.length],
      bidPrice: 100 + (k % 100) / 100,
      bidSize: 100,
      askPrice: 100.02 + (k % 100) / 100,
      askSize: 200,
      tsEvent,
    };
    parts.push(Buffer.from(encoder.encode(tick, 0n, 0n)));
  }
  sent += n;
  return Buffer.concat(parts);
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const endAt = t0 + (warmupS + seconds) * 1000;
let measureStart = 0;
setTimeout(() => {
  measuring = true;
  measureStart = performance.now();
}, warmupS * 1000);

if (rate > 0) {
  const data: PublisherData = {
    ingest: values.ingest!,
    rate,
    endNs: String(process.hrtime.bigint() + BigInt(Math.round((endAt - t0) * 1e6))),
  };
  const publisher = new Worker(new URL("./publisher.worker.js", import.meta.url), { workerData: data });
  sent = await new Promise<number>((resolve, reject) => {
    publisher.once("message", resolve);
    publisher.once("error", reject);
  });
} else {
  // Saturation: as fast as subscriber 0 takes frames, with a bounded number in flight.
  const pub = await open(values.ingest!);
  while (performance.now() < endAt) {
    if (sent - receivedByFirst < UNPACED_WINDOW)
      pub.send(encodeBatch(UNPACED_BATCH, process.hrtime.bigint()));
    else await new Promise((r) => setImmediate(r));
  }
  pub.close();
}
measuring = false;
const measuredS = (performance.now() - measureStart) / 1000;
const cpu = process.cpuUsage(cpu0);
await new Promise((r) => setTimeout(r, 200));

const us = (p: number) => Math.round(histogram.getValueAtPercentile(p) / 10) / 100;
console.log(
  JSON.stringify({
    clients,
    rate,
    sent,
    seconds: measuredS,
    deliveredPerSecond: Math.round(delivered / measuredS),
    perClientPerSecond: Math.round(delivered / measuredS / clients),
    latencyUs: { p50: us(50), p99: us(99), p999: us(99.9), max: Math.round(histogram.maxValue / 1000) },
    samples: histogram.totalCount,
    // Share of one core this load process used: near 1.0 means the client, not the server, is the limit.
    clientCpu: Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100) / 100,
  }),
);
for (const ws of subs) ws.close();
process.exit(0);
