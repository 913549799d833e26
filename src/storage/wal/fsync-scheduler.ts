/**
 * Decides when the WAL's written records become durable, by the fsync policy ({@link FsyncPolicy}), and tells
 * who waits: `durableSeq` listeners (the acks) and `flush()` callers.
 *
 * One fdatasync in flight at a time, on the libuv pool, while the main thread keeps writing to the same fd:
 * `durableSeq` becomes the written seq captured when that fdatasync STARTED, so it never claims a record the
 * sync may not have covered. Writes that land during a sync are covered by the next one (`syncAgain`), which
 * starts when the one in flight ends — so under load one fdatasync covers everything written meanwhile
 * (group commit).
 *
 * - `always`: a sync is requested after every write.
 * - `batch`: after `batchRecords` records written since the last sync started, or `batchMs` after a write
 *   (an unref'd timer, re-armed by `refresh()`: no allocation per write).
 * - `os`: never on the write path; `durableSeq` follows the written seq.
 *
 * A failed fdatasync is final: after it the kernel may have dropped the dirty pages, so nothing written since
 * the last good sync is trustworthy. It fails the WAL ({@link WalFailure}); waiters are rejected and the WAL
 * refuses further use.
 */
import { performance } from "node:perf_hooks";
import { WalIoError } from "../errors.js";
import type { WalFailure } from "./failure.js";
import type { WalFileOps } from "./file-ops.js";
import type { FsyncPolicy, ResolvedWalOptions } from "./options.js";

/** Cumulative fdatasync figures, for metrics. */
export interface WalFsyncStats {
  count: number;
  totalNs: number;
  lastNs: number;
  maxNs: number;
}

interface FlushWaiter {
  gen: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The fsync side of one WAL; the segment writer tells it which fd it writes and what it has written. */
export class FsyncScheduler {
  /** fdatasync figures since open. */
  readonly stats: WalFsyncStats = { count: 0, totalNs: 0, lastNs: 0, maxNs: 0 };
  private readonly policy: FsyncPolicy;
  private fd = -1;
  private writtenSeq: number;
  private _durableSeq: number;
  private syncing = false;
  private syncAgain = false;
  private syncTarget = 0;
  private syncStartMs = 0;
  /** writtenSeq covered by the last sync started. */
  private syncedThrough: number;
  private syncStartedGen = 0;
  private syncDoneGen = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerArmed = false;
  private readonly waiters: FlushWaiter[] = [];
  private readonly listeners: ((durableSeq: number) => void)[] = [];
  /** fds of sealed segments whose close waits for the fdatasync in flight. */
  private readonly retiredFds: number[] = [];
  private closed = false;
  private readonly onSyncedBound = (err: NodeJS.ErrnoException | null) => this.onSynced(err);
  private readonly onTimerBound = () => this.onTimer();

  /** `seq`: the WAL's last seq at open, durable by then (the open scan read it back from the files). */
  constructor(
    private readonly opts: ResolvedWalOptions,
    seq: number,
    private readonly files: WalFileOps,
    private readonly failure: WalFailure,
  ) {
    this.policy = opts.fsync;
    this.writtenSeq = seq;
    this._durableSeq = seq;
    this.syncedThrough = seq;
    failure.onFailure((err) => this.failed(err));
  }

  /** Highest seq durable under the policy. */
  get durableSeq(): number {
    return this._durableSeq;
  }

  /** The writer now writes to `fd` (a new or resumed segment); later syncs cover it. */
  useFd(fd: number): void {
    this.fd = fd;
  }

  /** Records up to `seq` were just written to the kernel: the policy decides when they become durable. */
  written(seq: number): void {
    this.writtenSeq = seq;
    if (this.closed) return;
    switch (this.policy) {
      case "os":
        this.advanceDurable(seq);
        break;
      case "always":
        this.requestSync();
        break;
      case "batch":
        if (seq - this.syncedThrough >= this.opts.batchRecords) this.requestSync();
        else this.armTimer();
        break;
    }
  }

  /**
   * The segment on `fd` is about to be sealed (everything in it written): makes it durable now, synchronously,
   * before the next segment exists (except under `os`). So a sealed segment is always complete, and only the
   * last segment can have a torn tail. A failure fails the WAL, as any failed fdatasync.
   */
  syncBeforeSeal(fd: number): void {
    if (this.policy === "os") return;
    const t0 = performance.now();
    try {
      this.files.fdatasyncSync(fd);
    } catch (err) {
      const failure = new WalIoError("fdatasync", null, err as NodeJS.ErrnoException);
      this.failure.fail(failure);
      throw failure;
    }
    this.recordFsync(Math.round((performance.now() - t0) * 1e6), 0);
  }

  /**
   * The segment on `fd`/`idxFd` is sealed and the next one in use: closes its fds (after the fdatasync in
   * flight, which may still use them) and, unless `os`, counts everything written as durable.
   */
  sealed(fd: number, idxFd: number): void {
    if (this.syncing) this.retiredFds.push(fd, idxFd);
    else {
      this.files.closeSync(fd);
      this.files.closeSync(idxFd);
    }
    if (this.policy !== "os") {
      this.syncedThrough = this.writtenSeq;
      this.advanceDurable(this.writtenSeq);
    }
  }

  /** Registers a listener called (once per fsync group) when `durableSeq` advances. */
  onDurable(listener: (durableSeq: number) => void): void {
    this.listeners.push(listener);
  }

  /** fdatasyncs now (under every policy); resolves when everything written so far is durable. */
  flush(): Promise<void> {
    if (this.failure.error !== null) return Promise.reject(this.failure.error);
    if (this.fd < 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (this.syncing) {
        this.syncAgain = true;
        this.waiters.push({ gen: this.syncStartedGen + 1, resolve, reject });
      } else {
        this.startSync();
        this.waiters.push({ gen: this.syncStartedGen, resolve, reject });
      }
    });
  }

  /** Waits for the fdatasync in flight, then stops for good: no timer, no further sync; sealed fds closed. */
  async close(): Promise<void> {
    while (this.syncing) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    this.disarmTimer();
    for (const fd of this.retiredFds.splice(0)) this.files.closeSync(fd);
  }

  private requestSync(): void {
    if (this.syncing) this.syncAgain = true;
    else this.startSync();
  }

  private startSync(): void {
    this.syncing = true;
    this.syncAgain = false;
    this.syncTarget = this.writtenSeq;
    this.syncedThrough = this.writtenSeq;
    this.syncStartedGen++;
    this.syncStartMs = performance.now();
    this.files.fdatasync(this.fd, this.onSyncedBound);
  }

  private onSynced(err: NodeJS.ErrnoException | null): void {
    this.syncing = false;
    this.syncDoneGen = this.syncStartedGen;
    for (const fd of this.retiredFds.splice(0)) this.files.closeSync(fd);
    if (err !== null) {
      this.failure.fail(new WalIoError("fdatasync", null, err));
      return;
    }
    const ns = Math.round((performance.now() - this.syncStartMs) * 1e6);
    this.recordFsync(ns, this.syncTarget - this._durableSeq);
    this.advanceDurable(this.syncTarget);
    this.resolveWaiters();
    if (this.closed || this.failure.error !== null) return;
    const behind = this.writtenSeq - this.syncedThrough;
    if (this.syncAgain || (this.policy === "always" && behind > 0)) this.startSync();
    else if (this.policy === "batch" && behind > 0) {
      if (behind >= this.opts.batchRecords) this.startSync();
      else this.armTimer();
    }
  }

  private onTimer(): void {
    this.timerArmed = false;
    if (this.writtenSeq > this.syncedThrough) this.requestSync();
  }

  private armTimer(): void {
    if (this.timerArmed || this.syncing) return;
    this.timerArmed = true;
    if (this.timer === null) {
      this.timer = setTimeout(this.onTimerBound, this.opts.batchMs);
      this.timer.unref();
    } else {
      this.timer.refresh();
    }
  }

  private disarmTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerArmed = false;
  }

  private advanceDurable(seq: number): void {
    if (seq <= this._durableSeq) return;
    this._durableSeq = seq;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i](seq);
  }

  private resolveWaiters(): void {
    const w = this.waiters;
    let kept = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i].gen <= this.syncDoneGen) w[i].resolve();
      else w[kept++] = w[i];
    }
    w.length = kept;
  }

  /** The WAL failed (here or in the writer): no more syncs, and every waiter learns why. */
  private failed(err: unknown): void {
    this.disarmTimer();
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private recordFsync(ns: number, records: number): void {
    const s = this.stats;
    s.count++;
    s.totalNs += ns;
    s.lastNs = ns;
    if (ns > s.maxNs) s.maxNs = ns;
    this.opts.onFsync?.(ns, records);
  }
}
