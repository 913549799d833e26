/**
 * The socket workers, from the main thread: starts them on one port, routes their messages, and stops them.
 * A worker that fails is logged with its error and counted ({@link WorkerPool.failures}); its clients lose
 * their connections and reconnect (the client library resumes from its last seq).
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

/** What the pool is built from. */
export interface WorkerPoolOptions {
  count: number;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The init of worker `index` listening on `port`. */
  init(index: number, port: number): WorkerInit;
  /** A message from worker `w` that is not the pool's own business (ingest, HTTP). */
  onMessage(w: number, msg: ToMain): void;
  log: Logger;
}

export class WorkerPool {
  /** The port every worker listens on. */
  port = 0;
  /** Workers that ended with an error or a non-zero exit while the daemon was serving. */
  failures = 0;
  private readonly workers: Worker[] = [];
  /** Workers that said they closed their clients, or exited: messages to them are dropped. */
  private readonly gone = new Set<number>();
  private readonly exited = new Set<number>();
  private stopping = false;

  constructor(private readonly o: WorkerPoolOptions) {}

  /** Starts every worker; resolves once all listen. */
  async start(): Promise<void> {
    this.port = await probePort(this.o.host, this.o.port);
    await Promise.all(Array.from({ length: this.o.count }, (_, w) => this.startWorker(w)));
  }

  /** Sends `msg` to worker `w` unless it is gone. */
  post(w: number, msg: ToWorker): void {
    if (!this.gone.has(w)) this.workers[w].postMessage(msg);
  }

  /** Asks each worker to close its clients and end; one that does not end in time is terminated. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.workers.map(
        (worker, w) =>
          new Promise<void>((resolve) => {
            if (this.exited.has(w)) {
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              this.o.log.warn({ worker: w }, "worker did not stop in time: terminating it");
              worker.terminate();
            }, SHUTDOWN_TIMEOUT_MS);
            worker.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            this.post(w, { t: "shutdown" });
          }),
      ),
    );
  }

  private startWorker(index: number): Promise<void> {
    const worker = new Worker(WORKER_URL, {
      workerData: this.o.init(index, this.port),
      name: `tickring-worker-${index}`,
    });
    this.workers[index] = worker;
    return new Promise((resolve, reject) => {
      worker.on("message", (msg: ToMain) => {
        if (msg.t === "listening") resolve();
        else if (msg.t === "listen-failed") reject(new TickringError("BAD_OPTION", msg.message));
        else if (msg.t === "closed") this.gone.add(index);
        else this.o.onMessage(index, msg);
      });
      worker.on("error", (err) => {
        if (!this.stopping) this.failures++;
        this.o.log.error({ err, worker: index }, "socket worker failed");
        reject(err);
      });
      worker.on("exit", (code) => {
        this.gone.add(index);
        this.exited.add(index);
        if (code !== 0 && !this.stopping) this.o.log.error({ worker: index, code }, "socket worker exited");
      });
    });
  }
}
