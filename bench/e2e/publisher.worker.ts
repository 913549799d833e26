/**
 * The paced publisher of the e2e load process, on its own thread: it sleeps to each 1 ms slot's exact
 * due time with `Atomics.wait` (a timer on the event loop discovers a due slot up to a millisecond late,
 * which would be counted as latency of the system under test), sends the slot's ticks stamped with that
 * due time, and repeats. Times are `process.hrtime` nanoseconds, one clock for every thread of the process.
 */
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";
import { FrameEncoder, type Tick } from "../../src/frame/codec.js";

export interface PublisherData {
  ingest: string;
  rate: number;
  /** Publishing stops at this hrtime (ns, as a decimal string). */
  endNs: string;
}

const SLOT_NS = 1_000_000n;
const SYMBOLS = Array.from({ length: 64 }, (_, i) => `SYM${i}`);
const { ingest, rate, endNs } = workerData as PublisherData;
const end = BigInt(endNs);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const encoder = new FrameEncoder();
let sent = 0;

/** `n` quote ticks stamped `tsEvent`, as one binary message. */
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

const ws = new WebSocket(ingest, { perMessageDeflate: false });
await new Promise((resolve, reject) => {
  ws.once("open", resolve);
  ws.once("error", reject);
});
const perSlot = rate / 1000;
const t0 = process.hrtime.bigint();
for (let slot = 0; ; slot++) {
  const due = t0 + BigInt(slot) * SLOT_NS;
  if (due >= end) break;
  for (let now = process.hrtime.bigint(); now < due; now = process.hrtime.bigint()) {
    Atomics.wait(sleeper, 0, 0, Number(due - now) / 1e6);
  }
  const n = Math.floor((slot + 1) * perSlot) - Math.floor(slot * perSlot);
  if (n > 0) ws.send(encodeBatch(n, due));
  // Let the event loop flush writes and read acks once every 16 slots.
  if (slot % 16 === 15) await new Promise((r) => setImmediate(r));
}
parentPort!.postMessage(sent);
ws.close();
