/**
 * The main thread's handle on the replicator thread (replicator-worker.ts): starts it, passes on what it
 * reports, and stops it — after it has replicated what the WAL accepted, when asked to drain.
 */
import { Worker } from "node:worker_threads";
import type { FromReplicator, ReplicatorInit } from "./thread-messages.js";

const WORKER_URL = new URL("./replicator-worker.js", import.meta.url);

/** What the thread reports. */
export interface ReplicatorEvents {
  progress(seq: number): void;
  fenced(by: string): void;
  failed(message: string): void;
}

export class ReplicatorThread {
  private stopping: Promise<number> | undefined;
  private lastSeq: number;

  private constructor(
    private readonly worker: Worker,
    private readonly exited: Promise<void>,
    fromSeq: number,
  ) {
    this.lastSeq = fromSeq - 1;
  }

  /** Starts the thread; resolves once it is connected and replicating. */
  static start(init: ReplicatorInit, events: ReplicatorEvents): Promise<ReplicatorThread> {
    const worker = new Worker(WORKER_URL, { workerData: init, name: "tickring-replicator" });
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    return new Promise((resolve, reject) => {
      let started: ReplicatorThread | undefined;
      worker.on("message", (msg: FromReplicator) => {
        switch (msg.t) {
          case "started":
            started = new ReplicatorThread(worker, exited, init.fromSeq);
            resolve(started);
            return;
          case "progress":
            if (started !== undefined) started.lastSeq = msg.seq;
            events.progress(msg.seq);
            return;
          case "fenced":
            events.fenced(msg.by);
            return;
          case "failed":
            if (started === undefined) reject(new Error(msg.message));
            else events.failed(msg.message);
            return;
          case "stopped":
            if (started !== undefined) started.lastSeq = msg.seq;
            return;
        }
      });
      worker.once("error", (err) => {
        if (started === undefined) reject(err);
        else events.failed(err.message);
      });
      worker.once("exit", (code) => {
        if (started === undefined)
          reject(new Error(`the replicator thread ended before it started (exit ${code})`));
      });
    });
  }

  /**
   * Stops the thread once the stream holds what the WAL accepted, or after `drainMs`; resolves with the
   * replicated seq when it has ended. Idempotent.
   */
  stop(drainMs: number): Promise<number> {
    this.stopping ??= (async () => {
      this.worker.postMessage({ t: "stop", drainMs });
      await this.exited;
      return this.lastSeq;
    })();
    return this.stopping;
  }
}
