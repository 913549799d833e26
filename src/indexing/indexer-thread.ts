/**
 * The main thread's handle on the indexer thread (see worker.ts): starts it, reads how far it has indexed
 * from the shared state, logs what it reports, and stops it.
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "../logger.js";
import { STATUS_INDEXED_SEQ } from "../threads/shared-state.js";
import type { FromIndexer, IndexerInit } from "./messages.js";

const WORKER_URL = new URL("./worker.js", import.meta.url);

export class IndexerThread {
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly shared: Float64Array,
    private readonly exited: Promise<void>,
  ) {}

  /** Starts the thread; resolves once it has opened the store and started indexing. */
  static start(init: IndexerInit, log: Logger): Promise<IndexerThread> {
    const worker = new Worker(WORKER_URL, { workerData: init, name: "tickring-indexer" });
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    return new Promise((resolve, reject) => {
      worker.on("message", (msg: FromIndexer) => {
        switch (msg.t) {
          case "started":
            resolve(new IndexerThread(worker, init.shared, exited));
            return;
          case "failed":
            log.error({ err: { message: msg.message, code: msg.code } }, "indexer stopped");
            return;
          case "retrying":
            log.warn(
              { err: { message: msg.message }, delayMs: msg.delayMs },
              "indexer could not write the store: retrying",
            );
            return;
          case "stopped":
            return;
        }
      });
      worker.once("error", (err) => {
        log.error({ err }, "indexer thread failed");
        reject(err);
      });
      worker.once("exit", (code) =>
        reject(new Error(`the indexer thread ended before it started (exit ${code})`)),
      );
    });
  }

  /** The store's checkpoint as the indexer last published it. */
  get indexedSeq(): number {
    return this.shared[STATUS_INDEXED_SEQ];
  }

  /** Stops after the batch in flight and waits for the thread to close the store and end. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.worker.postMessage({ t: "stop" });
      await this.exited;
    })();
    return this.stopped;
  }
}
