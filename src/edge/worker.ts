/**
 * The socket worker thread's entry: wires an {@link EdgeWorker} to this thread's seams (its `workerData`,
 * the native uWS module, the port to the main thread) and starts it. A failure of the ring pump ends the
 * thread with the error, which the main thread's pool logs and counts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { adoptClockOffset } from "../clock.js";
import { createLogger } from "../logger.js";
import type { ToWorker, WorkerInit } from "../threads/messages.js";
import { loadUws } from "../transport/uws.js";
import { EdgeWorker } from "./edge-worker.js";

const init = workerData as WorkerInit;
adoptClockOffset(init.clockOffsetNs);
const port = parentPort!;
const log = createLogger(init.logLevel).child({ worker: init.index });

const worker = new EdgeWorker({
  init,
  uws: loadUws().uws,
  post: (msg, transfer) => port.postMessage(msg, transfer),
  release: () => port.unref(),
  log,
});
port.on("message", (msg: ToWorker) => worker.onMessage(msg));
worker.start().pumping.catch((err: unknown) => {
  // Rethrown outside the promise, so the thread ends with it and the main thread's "error" event has it.
  setImmediate(() => {
    throw err;
  });
});
