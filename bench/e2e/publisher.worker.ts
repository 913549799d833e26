/**
 * The paced publisher of the e2e load process, on its own thread: it sleeps to each 1 ms slot's exact
 * due time with `Atomics.wait` (a timer on the event loop discovers a due slot up to a millisecond late,
 * which would be counted as latency of the system under test), sends the slot's ticks stamped with that
 * due time, and repeats. Times are `process.hrtime` nanoseconds: CLOCK_MONOTONIC, one clock for every
 * thread and every process of the machine, so subscribers in other load processes can measure against it.
 *
 * Two transports, the same ticks: a WebSocket binary message of the slot's size-prefixed frames
 * (tickring `/v1/ingest`, the baseline) or, with `nats`, one NATS core `PUB ticks.<symbol>` per tick over
 * TCP, all of a slot's PUBs in one socket write. Both writes leave synchronously (libuv tries the write
 * at once), so neither side waits for the event loop.
 */
import { connect } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";
import { CONNECT_LINE, NatsParser, pubCommands } from "../peers/nats-protocol.js";
import { encodeTicks, SYMBOLS } from "./ticks.js";

export interface PublisherData {
  /** ws:// URL of the ingest endpoint, or nats://host:port with `transport: "nats"`. */
  ingest: string;
  rate: number;
  /** Publishing stops at this hrtime (ns, as a decimal string). */
  endNs: string;
  /** First slot's due time (hrtime ns, decimal string); default: when the connection is open. */
  startNs?: string;
  /** @default "ws" */
  transport?: "ws" | "nats";
}

const SLOT_NS = 1_000_000n;
const SUBJECTS = SYMBOLS.map((s) => `ticks.${s}`);
const { ingest, rate, endNs, startNs, transport = "ws" } = workerData as PublisherData;
const end = BigInt(endNs);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let sent = 0;

async function openWs(): Promise<(n: number, due: bigint) => void> {
  const ws = new WebSocket(ingest, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return (n, due) => {
    ws.send(Buffer.concat(encodeTicks(sent, n, due)));
    sent += n;
  };
}

async function openNats(): Promise<(n: number, due: bigint) => void> {
  const url = new URL(ingest);
  const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
  await new Promise<void>((resolve, reject) => {
    const parser = new NatsParser({
      onMsg: () => {},
      reply: (d) => socket.write(d),
      onInfo: () => socket.write(`${CONNECT_LINE}PING\r\n`),
      onPong: resolve,
    });
    socket.on("data", (chunk: Buffer) => parser.push(chunk));
    socket.once("error", reject);
  });
  return (n, due) => {
    const frames = encodeTicks(sent, n, due);
    const subjects = frames.map((_, i) => SUBJECTS[(sent + i) % SUBJECTS.length]);
    socket.write(pubCommands(subjects, frames));
    sent += n;
  };
}

const send = transport === "nats" ? await openNats() : await openWs();
const perSlot = rate / 1000;
const t0 = startNs === undefined ? process.hrtime.bigint() : BigInt(startNs);
for (let slot = 0; ; slot++) {
  const due = t0 + BigInt(slot) * SLOT_NS;
  if (due >= end) break;
  for (let now = process.hrtime.bigint(); now < due; now = process.hrtime.bigint()) {
    Atomics.wait(sleeper, 0, 0, Number(due - now) / 1e6);
  }
  const n = Math.floor((slot + 1) * perSlot) - Math.floor(slot * perSlot);
  if (n > 0) send(n, due);
  // Let the event loop flush writes and read acks (and NATS PINGs) once every 16 slots.
  if (slot % 16 === 15) await new Promise((r) => setImmediate(r));
}
parentPort!.postMessage(sent);
// Closing at once could drop the last slots' bytes still queued in the socket; the process exits soon.
await new Promise((r) => setTimeout(r, 100));
process.exit(0);
