/**
 * The socket worker thread's entry: wires an {@link EdgeWorker} to this thread's seams (its `workerData`,
 * the transport the main thread chose, the port to the main thread) and starts it. A failure the worker cannot isolate
 * ends the thread cleanly after closing its clients; the main thread's pool logs it and starts another.
 */
import { parentPort, workerData } from "node:worker_threads";
import { adoptClockOffset } from "../clock.js";
import { createLogger } from "../logger.js";
import type { ToWorker, WorkerInit } from "../threads/messages.js";
import { loadTransport } from "../transport/select.js";
import { EdgeWorker } from "./edge-worker.js";

const init = workerData as WorkerInit;
adoptClockOffset(init.clockOffsetNs);
const port = parentPort!;
const log = createLogger(init.logLevel).child({ worker: init.index });

const worker = new EdgeWorker({
  init,
  transport: loadTransport(init.transport),
  post: (msg, transfer) => port.postMessage(msg, transfer),
  release: () => port.unref(),
  log,
});
port.on("message", (msg: ToWorker) => worker.onMessage(msg));
// Nothing may escape: a worker thread that ends with uWS sockets open aborts the whole process. The worker
// closes its clients and ends cleanly instead, and the pool replaces it.
process.on("uncaughtException", (err) => worker.fail(err));
process.on("unhandledRejection", (err) => worker.fail(err));
worker.start().pumping.catch((err: unknown) => worker.fail(err));
