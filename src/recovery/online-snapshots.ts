/**
 * Snapshots of a running daemon: on request (`POST /v1/admin/snapshot`) and on a schedule
 * (`--snapshot-every`, keeping the newest `--snapshot-keep`). One at a time: a request while one runs waits
 * for it, so two snapshots never read the store concurrently.
 */
import type { Logger } from "pino";
import { createSnapshot, type LiveWal, type SnapshotResult } from "./snapshot-create.js";
import { pruneSnapshots } from "./snapshot-list.js";

/** Options of {@link OnlineSnapshots}. */
export interface OnlineSnapshotsOptions {
  data: string;
  wal: LiveWal;
  log: Logger;
  /** Take one every this many ms; undefined = only on request. */
  everyMs: number | undefined;
  /** After a scheduled snapshot, delete all but the newest this many; undefined = keep all. */
  keep: number | undefined;
}

/** See the module doc. */
export class OnlineSnapshots {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private scheduledPending = false;

  constructor(private readonly o: OnlineSnapshotsOptions) {}

  /** Starts the schedule, if any. */
  start(): void {
    if (this.o.everyMs === undefined || this.o.everyMs === 0) return;
    this.timer = setInterval(() => {
      // A snapshot slower than the interval skips the next turn rather than queueing turns without bound.
      if (this.scheduledPending) return;
      this.scheduledPending = true;
      this.serialized(async () => {
        await this.create();
        await this.prune();
      })
        .catch((err) => this.o.log.error({ err }, "scheduled snapshot failed"))
        .finally(() => {
          this.scheduledPending = false;
        });
    }, this.o.everyMs);
    this.timer.unref();
  }

  /** Creates a snapshot in `<data>/snapshots/`, after any snapshot already running. */
  take(): Promise<SnapshotResult> {
    return this.serialized(() => this.create());
  }

  /** Stops the schedule and waits for a snapshot (and its pruning) in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
  }

  /** Runs `job` after every job queued before it. */
  private serialized<T>(job: () => Promise<T>): Promise<T> {
    const run = this.chain.then(job);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async create(): Promise<SnapshotResult> {
    const r = await createSnapshot({ data: this.o.data, liveWal: this.o.wal });
    this.o.log.info({ id: r.id, seq: r.seq, path: r.path }, "snapshot created");
    return r;
  }

  private async prune(): Promise<void> {
    if (this.o.keep === undefined) return;
    const removed = await pruneSnapshots(this.o.data, this.o.keep);
    if (removed.length > 0) this.o.log.info({ removed }, "old snapshots removed");
  }
}
