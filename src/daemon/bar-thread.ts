/**
 * The bars thread, from the main thread: starts src/edge/bar-thread.ts on the ring and the data directory,
 * hands the bars it sends to `sequence`, and stops it. A bars thread that fails is logged and not restarted
 * (bars stop; ingest and feeds go on): restarting it would read history back, which a failing WAL would
 * fail again.
 */
import { Worker } from "node:worker_threads";
import { clockOffsetNs } from "../clock.js";
import type { BarTick } from "../frame/codec.js";
import type { Logger } from "../logger.js";
import type { BarOptions } from "../publisher/bars/bar-emitter.js";
import type { BarThreadInit, FromBarThread, ToBarThread } from "../publisher/bars/bar-thread-messages.js";

const THREAD_URL = new URL("../edge/bar-thread.js", import.meta.url);
/** How long the thread gets to end by itself at shutdown before it is terminated. */
const STOP_TIMEOUT_MS = 2000;

export class BarThread {
  private readonly worker: Worker;
  private exited: Promise<void>;

  /**
   * @param sequence sequences the bars (the writer's own path, as for ticks of the embedding API).
   */
  constructor(
    o: BarOptions & { ring: SharedArrayBuffer; walDir: string; storeDir: string; shared: Float64Array },
    sequence: (bars: BarTick[]) => void,
    log: Logger,
  ) {
    const init: BarThreadInit = { ...o, clockOffsetNs: clockOffsetNs() };
    this.worker = new Worker(THREAD_URL, { workerData: init });
    this.worker.on("message", (msg: FromBarThread) => {
      if (msg.t === "bars") sequence(msg.ticks);
      else log.error({ reason: msg.message }, "bars thread failed: live bars stopped");
    });
    this.worker.on("error", (err) => log.error({ err }, "bars thread failed: live bars stopped"));
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
  }

  /** Holds the bars while the writer refuses ingest (see BarEmitter.hold), or lets them go again. */
  hold(on: boolean): void {
    const msg: ToBarThread = { t: "hold", on };
    this.worker.postMessage(msg);
  }

  /** Stops the thread (it ends by itself; terminated if it does not within {@link STOP_TIMEOUT_MS}). */
  async stop(): Promise<void> {
    const msg: ToBarThread = { t: "stop" };
    this.worker.postMessage(msg);
    const timer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
