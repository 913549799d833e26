/**
 * The bars thread: one thread, beside the socket workers, that computes the live OHLCV bars (`--bars`). It
 * reads every sequenced frame from the ring with a ring pump of its own — the single writer does no work per
 * trade — and sends the bars that are due to the main thread, which sequences them.
 *
 * At start it reads history back from where a bar still open or correctable could begin (now minus the
 * longest correction window): the trades rebuild the bars a restart interrupted, and the bar frames already
 * sequenced mark which were emitted (and at which revision), so none is emitted twice.
 */
import { parentPort, workerData } from "node:worker_threads";
import { adoptClockOffset, nowNs } from "../clock.js";
import { BarEmitter } from "../publisher/bars/bar-emitter.js";
import type { BarThreadInit, FromBarThread, ToBarThread } from "../publisher/bars/bar-thread-messages.js";
import { RingReader } from "../ring/reader.js";
import { Store } from "../storage/index.js";
import { seqAtTime } from "../subscriber/history.js";
import { RingPump } from "../subscriber/ring-pump.js";
import { STATUS_WRITTEN_SEQ } from "../threads/shared-state.js";

const init = workerData as BarThreadInit;
adoptClockOffset(init.clockOffsetNs);
const port = parentPort!;
const post = (msg: FromBarThread) => port.postMessage(msg);

const emitter = new BarEmitter(init);
const reader = new RingReader(init.ring, { start: "tail" });
let store: Promise<Store> | undefined;
const history = { walDir: init.walDir, store: () => (store ??= Store.open({ dir: init.storeDir })) };
const shared = init.shared;
const newest = Math.max(reader.lastSeq, shared[STATUS_WRITTEN_SEQ]);
const from = await seqAtTime(history, Number(nowNs()) - emitter.windowNs, 1, newest);
const pump = new RingPump({
  reader,
  walDir: init.walDir,
  fanOut: emitter,
  startSeq: from - 1,
  writtenSeq: () => shared[STATUS_WRITTEN_SEQ],
  onTorn: () => {},
});
emitter.start((ticks) => post({ t: "bars", ticks }));
port.on("message", (msg: ToBarThread) => {
  if (msg.t === "hold") {
    emitter.hold(msg.on);
    return;
  }
  pump.stop();
  emitter.stop();
  void store?.then((s) => s.close());
  port.close();
});
pump.run().catch((err: unknown) => {
  emitter.stop();
  post({ t: "failed", message: String((err as Error)?.message ?? err) });
  port.close();
});
