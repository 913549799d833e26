/**
 * The paced publisher of the e2e load process, on its own thread: it sleeps to each 1 ms slot's exact
 * due time with `Atomics.wait` (a timer on the event loop discovers a due slot up to a millisecond late,
 * which would be counted as latency of the system under test), sends the slot's ticks stamped with that
 * due time, and repeats. Times are `process.hrtime` nanoseconds: CLOCK_MONOTONIC, one clock for every
 * thread and every process of the machine, so subscribers in other load processes can measure against it.
 *
 * Two transports (ingest-link.ts), the same ticks: a WebSocket binary message of the slot's size-prefixed
 * frames (tickring `/v1/ingest`, the baseline) or, to a nats:// URL, one NATS core `PUB ticks.<symbol>`
 * per tick over TCP, all of a slot's PUBs in one socket write.
 */
import { parentPort, workerData } from "node:worker_threads";
import { pubCommands } from "../peers/nats-protocol.js";
import { openIngestLink } from "./ingest-link.js";
import { encodeTicks, NATS_SUBJECTS } from "./ticks.js";

export interface PublisherData {
  /** ws:// URL of the ingest endpoint, or nats://host:port (NATS core over TCP). */
  ingest: string;
  rate: number;
  /** Publishing stops at this hrtime (ns, as a decimal string). */
  endNs: string;
  /** First slot's due time (hrtime ns, decimal string); default: when the connection is open. */
  startNs?: string;
}

const SLOT_NS = 1_000_000n;
const { ingest, rate, endNs, startNs } = workerData as PublisherData;
const end = BigInt(endNs);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let sent = 0;

const link = await openIngestLink(ingest);
const send = (n: number, due: bigint) => {
  const frames = encodeTicks(sent, n, due);
  if (ingest.startsWith("nats://")) {
    link.send(
      pubCommands(
        frames.map((_, i) => NATS_SUBJECTS[(sent + i) % NATS_SUBJECTS.length]),
        frames,
      ),
    );
  } else link.send(Buffer.concat(frames));
  sent += n;
};
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
