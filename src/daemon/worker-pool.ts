/**
 * The socket workers, from the main thread: starts them on one port, routes their messages, replaces a
 * worker that fails, and stops them.
 *
 * A failed worker closes its clients itself and ends (see edge/edge-worker.ts `fail`); the pool logs it,
 * counts it ({@link WorkerPool.failures}, `tickring_worker_failures_total`) and starts a new incarnation on
 * the same port. Its clients reconnect (the client library resumes from its last seq). Connection ids are
 * unique across incarnations, so a reply meant for a connection of the old one reaches nobody. A worker
 * that keeps failing is restarted with a growing delay, up to {@link MAX_RESTART_DELAY_MS}.
 *
 * Port: Linux will not share a kernel-chosen (port 0) port through SO_REUSEPORT, so for port 0 a free port
 * is taken first and every worker gets that one.
 */
import { Worker } from "node:worker_threads";
import { TickringError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ToMain, ToWorker, WorkerInit } from "../threads/messages.js";
import { probePort } from "./listen-port.js";

const WORKER_URL = new URL("../edge/worker.js", import.meta.url);
/** How long a worker gets to close its clients at shutdown before it is terminated. */
const SHUTDOWN_TIMEOUT_MS = 5000;
/** Connection ids of incarnation k start after k × this. */
const CONN_IDS_PER_INCARNATION = 2 ** 32;
/** A worker that failed again within this long of its last start is restarted after a delay. */
const QUICK_FAILURE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 5000;

/** What the pool is built from. */
export interface WorkerPoolOptions {
  count: number;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The init of worker `index` listening on `port`, its connection ids after `connIdBase`. */
  init(index: number, port: number, connIdBase: number): WorkerInit;
  /** A message from worker `w` that is not the pool's own business (ingest, HTTP). */
  onMessage(w: number, msg: ToMain): void;
  log: Logger;
}

interface Slot {
  worker: Worker;
  /** Replies to it can no longer be delivered (it closed its clients, failed or exited). */
  gone: boolean;
  exited: boolean;
  startedAt: number;
  restartDelayMs: number;
}

export class WorkerPool {
  /** The port every worker listens on. */
  port = 0;
  /** Workers that failed while the daemon was serving (each was replaced). */
  failures = 0;
  private readonly slots: Slot[] = [];
  private incarnations = 0;
  private stopping = false;

  constructor(private readonly o: WorkerPoolOptions) {}

  /** Starts every worker; resolves once all listen. */
  async start(): Promise<void> {
    this.port = await probePort(this.o.host, this.o.port);
    await Promise.all(Array.from({ length: this.o.count }, (_, w) => this.startWorker(w, 0)));
  }

  /** Sends `msg` to worker `w` unless it is gone. */
  post(w: number, msg: ToWorker): void {
    const slot = this.slots[w];
    if (slot !== undefined && !slot.gone) slot.worker.postMessage(msg);
  }

  /** Asks each worker to close its clients and end; one that does not end in time is terminated. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(
        (slot, w) =>
          new Promise<void>((resolve) => {
            if (slot.exited) {
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              this.o.log.warn({ worker: w }, "worker did not stop in time: terminating it");
              slot.worker.terminate();
            }, SHUTDOWN_TIMEOUT_MS);
            slot.worker.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            this.post(w, { t: "shutdown" });
          }),
      ),
    );
  }

  /** Starts an incarnation of worker `index`; resolves once it listens. */
  private startWorker(index: number, restartDelayMs: number): Promise<void> {
    const connIdBase = ++this.incarnations * CONN_IDS_PER_INCARNATION;
    const worker = new Worker(WORKER_URL, {
      workerData: this.o.init(index, this.port, connIdBase),
      name: `tickring-worker-${index}`,
    });
    const slot: Slot = { worker, gone: false, exited: false, startedAt: performance.now(), restartDelayMs };
    this.slots[index] = slot;
    let listening = false;
    return new Promise((resolve, reject) => {
      worker.on("message", (msg: ToMain) => {
        if (msg.t === "listening") {
          listening = true;
          resolve();
        } else if (msg.t === "listen-failed") reject(new TickringError("BAD_OPTION", msg.message));
        else if (msg.t === "closed") slot.gone = true;
        else if (msg.t === "failed") {
          slot.gone = true;
          this.o.log.error({ worker: index, reason: msg.message }, "socket worker failed");
        } else this.o.onMessage(index, msg);
      });
      worker.on("error", (err) => {
        this.o.log.error({ err, worker: index }, "socket worker failed");
        reject(err);
      });
      worker.on("exit", (code) => {
        slot.gone = true;
        slot.exited = true;
        if (!listening) {
          reject(
            new TickringError(
              "UNAVAILABLE",
              `socket worker ${index} ended before it listened (exit ${code})`,
            ),
          );
          return;
        }
        if (this.stopping || this.slots[index] !== slot) return;
        // Exiting while the daemon serves is a failure, whatever the exit code.
        this.failures++;
        this.o.log.error({ worker: index, code }, "socket worker ended: starting another");
        this.replace(index, slot);
      });
    });
  }

  private replace(index: number, old: Slot): void {
    const quick = performance.now() - old.startedAt < QUICK_FAILURE_MS;
    const delay = quick ? Math.min(MAX_RESTART_DELAY_MS, Math.max(100, old.restartDelayMs * 2)) : 0;
    setTimeout(() => {
      if (this.stopping) return;
      this.startWorker(index, delay).catch((err) => {
        this.o.log.error({ err, worker: index }, "replacing a socket worker failed");
      });
    }, delay).unref();
  }
}
