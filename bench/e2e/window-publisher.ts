/**
 * A saturating publisher with a bounded window, the way a real publisher protects itself: batches of
 * trades (tickring: one ingest message each, a JSON array or frames back to back; NATS core: one `PUB`
 * per trade and a `PING` after the batch), sent as fast as acks come back, with at most `window` ticks
 * unacked. A tickring ack means the batch is durable under the daemon's `--fsync` policy; a NATS
 * `PONG` means the server has processed every `PUB` before it (NATS core keeps nothing). Each batch is
 * stamped with its send time as ts_event, so subscribers can measure latency against it.
 */
import { pubCommands } from "../peers/nats-protocol.js";
import { AckWindow, type AckWindowRun } from "./ack-window.js";
import { openIngestLink } from "./ingest-link.js";
import { NATS_SUBJECTS, type TickFormat, tradeMessage, tradePayload } from "./ticks.js";

export interface WindowedPublish {
  /** `ws://…/v1/ingest` (tickring) or `nats://host:port` (NATS core over TCP). */
  url: string;
  format: TickFormat;
  /** Ticks per batch. */
  batch: number;
  /** Ticks unacked at most: `window ÷ batch` batches in flight (at least one). */
  window: number;
  /** First send, hrtime ns (default: at once). */
  startNs?: bigint;
  /** Stop sending at this hrtime ns … */
  endNs?: bigint;
  /** … or after this many ticks (rounded up to whole batches). */
  ticks?: number;
}

export interface WindowedRun {
  /** Ticks acked. */
  acked: number;
  /** From the first send to the last ack. */
  seconds: number;
  ackedPerSecond: number;
  /** From a batch's (JetStream: a message's) send to its ack. */
  ackLatencyUs: { p50: number; p99: number; p999: number };
}

export async function publishWindowed(o: WindowedPublish): Promise<WindowedRun> {
  const nats = o.url.startsWith("nats://");
  const send = (n: number, now: bigint) => {
    const first = n * o.batch;
    if (!nats) return link.send(tradeMessage(o.format, first, o.batch, now));
    const payloads: Buffer[] = [];
    const subjects: string[] = [];
    for (let i = 0; i < o.batch; i++) {
      payloads.push(tradePayload(o.format, first + i, now));
      subjects.push(NATS_SUBJECTS[(first + i) % NATS_SUBJECTS.length]);
    }
    link.send(Buffer.concat([pubCommands(subjects, payloads), PING]));
  };
  const more = (n: number) =>
    (o.endNs === undefined || process.hrtime.bigint() < o.endNs) &&
    (o.ticks === undefined || n * o.batch < o.ticks);
  const window = new AckWindow(Math.max(1, Math.floor(o.window / o.batch)), send, more);
  const link = await openIngestLink(
    o.url,
    () => window.ack(),
    (message) => window.fail(new Error(message)),
  );
  if (o.startNs !== undefined) {
    const waitMs = Number(o.startNs - process.hrtime.bigint()) / 1e6;
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
  }
  try {
    return windowedRun(await window.run(), o.batch);
  } finally {
    link.close();
  }
}

/** An {@link AckWindowRun} of units of `ticksPerUnit` ticks, in ticks. */
export function windowedRun(run: AckWindowRun, ticksPerUnit: number): WindowedRun {
  const acked = run.units * ticksPerUnit;
  return {
    acked,
    seconds: run.seconds,
    ackedPerSecond: Math.round(acked / run.seconds),
    ackLatencyUs: run.ackLatencyUs,
  };
}

const PING = Buffer.from("PING\r\n");
