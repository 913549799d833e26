/**
 * JetStream the way its users drive it from nats.js (the `nats` package), for the peers benchmark:
 *
 * - publishing asynchronously, as NATS's own clients do (Go's `PublishAsync`): one tick per message,
 *   each published with a reply subject that one subscription listens on, PubAcks counted as they
 *   come, at most `window` publishes unacked. (`await js.publish()` per message, even with thousands
 *   of those promises in flight, reached ≈ 20K msg/s here against ≈ 150K/s this way: it would flatter
 *   any comparison.)
 * - replaying with an ordered consumer (`js.consumers.get(stream).consume()`), every message parsed.
 */
import { connect, createInbox, type NatsConnection, StorageType } from "nats";
import { decodeFrame, parseJson } from "../e2e/decode.js";
import { SYMBOLS, type TickFormat, tradePayload } from "../e2e/ticks.js";
import { AckWindow } from "../e2e/ack-window.js";
import { type WindowedRun, windowedRun } from "../e2e/window-publisher.js";

/** The stream every JetStream run writes: file storage, one replica, limits retention, defaults otherwise. */
export const STREAM = "TICKS";
const SUBJECTS = SYMBOLS.map((s) => `hist.${s}`);

/** Connects nats.js over TCP to `url` (nats://host:port) and creates {@link STREAM}. */
export async function connectJetStream(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url.replace("nats://", "") });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: STREAM, subjects: ["hist.>"], storage: StorageType.File });
  return nc;
}

export interface AsyncPublish {
  format: TickFormat;
  /** Publishes (= ticks) unacked at most. */
  window: number;
  /** Stop publishing at this hrtime ns … */
  endNs?: bigint;
  /** … or after this many ticks. */
  ticks?: number;
}

/** Publishes trades into {@link STREAM}, one per message, until `endNs` or `ticks`; all acked on return. */
export async function publishAsync(nc: NatsConnection, o: AsyncPublish): Promise<WindowedRun> {
  const inbox = createInbox();
  const send = (n: number, now: bigint) =>
    nc.publish(SUBJECTS[n % SUBJECTS.length], tradePayload(o.format, n, now), { reply: inbox });
  const more = (n: number) =>
    (o.endNs === undefined || process.hrtime.bigint() < o.endNs) && (o.ticks === undefined || n < o.ticks);
  const window = new AckWindow(o.window, send, more);
  // PubAcks of one stream come back in publish order.
  const sub = nc.subscribe(inbox, {
    callback: (err, m) => {
      const ack = err === null ? (parseJson(m.data) as unknown as { error?: { description: string } }) : null;
      if (err === null && ack?.error === undefined) window.ack();
      else window.fail(new Error(`JetStream publish failed: ${err?.message ?? ack?.error?.description}`));
    },
  });
  try {
    return windowedRun(await window.run(), 1);
  } finally {
    sub.unsubscribe();
  }
}

export interface ConsumerReplay {
  frames: number;
  framesPerSecond: number;
  firstFrameMs: number;
}

/**
 * Reads {@link STREAM} from its first message to message `count` with an ordered consumer (nats.js's
 * default pull batch, `max_messages` 100, unless `maxMessages` says otherwise), parsing (JSON) or
 * decoding (frames) every message as it comes.
 */
export async function replayOrdered(
  nc: NatsConnection,
  format: TickFormat,
  count: number,
  maxMessages?: number,
): Promise<ConsumerReplay> {
  const consumer = await nc.jetstream().consumers.get(STREAM); // ordered, deliver all
  const start = performance.now();
  let first = 0;
  let frames = 0;
  const messages = await consumer.consume(maxMessages === undefined ? {} : { max_messages: maxMessages });
  for await (const m of messages) {
    if (first === 0) first = performance.now();
    if (format === "json") parseJson(m.data);
    else decodeFrame(m.data, 0);
    frames++;
    if (m.seq === count) break;
  }
  const end = performance.now();
  return {
    frames,
    framesPerSecond: Math.round(frames / ((end - start) / 1000)),
    firstFrameMs: Math.round((first - start) * 100) / 100,
  };
}
