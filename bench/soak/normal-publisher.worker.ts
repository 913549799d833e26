/**
 * The soak's normal publisher, on its own thread: trade ticks at a steady rate over the normal symbols, in
 * 1 ms slots, each slot one message — binary frames and JSON envelopes in turn. Tick k (from 1) has
 * `trade_id` k and `ts_event` its slot's due time (epoch ns on this process's clock), so every acked tick
 * can be found again in history by its id.
 *
 * Acks come in message order (docs/protocol.md): each ack pops the oldest message in flight and names the
 * seq of its last tick, so the message's ticks have seqs `ack − count + 1 … ack`. A JSON envelope's ack also
 * echoes its id, which is checked. The worker keeps every ack as a triple (last seq, ticks, first tick id).
 */
import { parentPort, workerData } from "node:worker_threads";
import { encodeIntoCompressedBase64 } from "hdr-histogram-js";
import WebSocket from "ws";
import { clockOffsetNs } from "../../src/clock.js";
import { FrameEncoder } from "../../src/frame/codec.js";
import type { Schedule } from "./child.js";
import { newHistogram } from "./latency.js";
import type { Counts } from "./tally.js";

export interface NormalPublisherData {
  port: number;
  /** Ticks per second. */
  rate: number;
  symbols: string[];
  schedule: Schedule;
}

export interface NormalPublisherResult {
  ticksSent: number;
  messagesSent: number;
  /** Acked messages as flat triples: last seq, tick count, first tick id. */
  acked: number[];
  /** Errors, closes and ack inconsistencies (an ack whose id is not the message's, a seq going back). */
  problems: Counts;
  /** Messages never answered (in flight when the wait for acks ended). */
  unanswered: number;
  /** Send → ack latency (ns, HDR compressed base64) of messages sent in each phase. */
  ackLatency: { baseline: string; hostile: string };
}

const SLOT_NS = 1_000_000n;
/** After the last slot, how long acks are awaited. */
const ACK_WAIT_MS = 10_000;

const { port, rate, symbols, schedule } = workerData as NormalPublisherData;
const encoder = new FrameEncoder();
const epoch = clockOffsetNs();
const start = BigInt(schedule.startNs);
const end = BigInt(schedule.endNs);
const baselineNs = BigInt(schedule.baselineNs);
const hostileNs = BigInt(schedule.hostileNs);
const ackLatency = { baseline: newHistogram(), hostile: newHistogram() };
const problems: Counts = {};
const problem = (what: string) => (problems[what] = (problems[what] ?? 0) + 1);

/** A message in flight: its first tick id, its tick count, its JSON id (-1 for binary), when it left. */
const inFlight: { first: number; count: number; id: number; sentNs: bigint }[] = [];
const acked: number[] = [];
let lastAck = 0;

const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ingest`, { perMessageDeflate: false });
await new Promise((resolve, reject) => {
  ws.once("open", resolve);
  ws.once("error", reject);
});
ws.on("message", (data: Buffer) => {
  const now = process.hrtime.bigint();
  const msg = JSON.parse(data.toString()) as { op: string; seq?: number; id?: number; code?: string };
  const m = inFlight.shift();
  if (m === undefined) {
    problem(`unprompted:${msg.op}`);
    return;
  }
  if (msg.op !== "ack") {
    problem(`error:${msg.code}`);
    return;
  }
  if (m.id !== -1 && msg.id !== m.id) problem("ack-id-not-the-message's");
  const seq = msg.seq!;
  if (seq < lastAck + m.count) problem("ack-seq-overlaps-the-previous-ack");
  lastAck = seq;
  acked.push(seq, m.count, m.first);
  if (m.sentNs >= baselineNs) {
    const h = m.sentNs < hostileNs ? ackLatency.baseline : ackLatency.hostile;
    h.recordValue(Math.max(1, Number(now - m.sentNs)));
  }
});
ws.on("close", (code) => problem(`close:${code}`));

/** Tick k's fields: its symbol in turn, a price and a size that vary. */
const tradeOf = (k: number) => ({
  symbol: symbols[k % symbols.length],
  price: 100 + (k % 1000) / 100,
  size: 1 + (k % 100),
});

let nextTick = 1;
let messages = 0;

function send(n: number, due: bigint): void {
  const first = nextTick;
  nextTick += n;
  const tsEvent = due + epoch;
  const binary = messages % 2 === 0;
  messages++;
  if (binary) {
    const frames: Buffer[] = [];
    for (let k = first; k < first + n; k++) {
      const tick = { type: "trade" as const, ...tradeOf(k), tradeId: BigInt(k), tsEvent };
      frames.push(Buffer.from(encoder.encode(tick, 0n, 0n)));
    }
    inFlight.push({ first, count: n, id: -1, sentNs: process.hrtime.bigint() });
    ws.send(Buffer.concat(frames));
    return;
  }
  const ticks = [];
  for (let k = first; k < first + n; k++) {
    ticks.push({ type: "trade", ...tradeOf(k), trade_id: k, ts_event: String(tsEvent) });
  }
  inFlight.push({ first, count: n, id: messages, sentNs: process.hrtime.bigint() });
  ws.send(JSON.stringify({ id: messages, ticks }));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const perSlot = rate / 1000;
for (let slot = 0; ; slot++) {
  const due = start + BigInt(slot) * SLOT_NS;
  if (due >= end) break;
  for (let now = process.hrtime.bigint(); now < due; now = process.hrtime.bigint()) {
    Atomics.wait(sleeper, 0, 0, Number(due - now) / 1e6);
  }
  const n = Math.floor((slot + 1) * perSlot) - Math.floor(slot * perSlot);
  if (n > 0) send(n, due);
  // A turn of the event loop every slot: the write leaves and acks are read within a millisecond.
  await new Promise((r) => setImmediate(r));
}
for (let waited = 0; inFlight.length > 0 && waited < ACK_WAIT_MS; waited += 20) {
  await new Promise((r) => setTimeout(r, 20));
}
ws.close();
parentPort!.postMessage({
  ticksSent: nextTick - 1,
  messagesSent: messages,
  acked,
  problems,
  unanswered: inFlight.length,
  ackLatency: {
    baseline: encodeIntoCompressedBase64(ackLatency.baseline),
    hostile: encodeIntoCompressedBase64(ackLatency.hostile),
  },
} satisfies NormalPublisherResult);
