/**
 * Feeds the store from the WAL, behind it: reads batches with a {@link WalReader} from `checkpoint + 1` and
 * hands each to {@link Store.index} (blocks + checkpoint in one atomic LevelDB batch). While LevelDB applies one
 * batch the next is read from the WAL (the store copies frames before its promise, so the reader may reuse its
 * buffer). When caught up it polls every `idleMs`.
 *
 * Only seqs ≤ `limitSeq()` are indexed. Pass `() => wal.durableSeq` so the store never holds a record that a
 * power loss could cut from the WAL (the checkpoint would then be ahead of the WAL's resumed seq).
 *
 * What the WAL cannot give — an unreadable range of a sealed segment, a hole `tickring wal repair` recorded —
 * is skipped ({@link Store.skip}: the checkpoint moves past it with no frame) and reported to `onGap`, so one
 * bad record does not stop indexing, and WAL retention behind it, for good.
 *
 * A failed store write (`ERR_STORE_IO`: a full disk, an I/O error) does not stop it: it tells `onRetry`,
 * waits `retryMs`, and starts again from the store's checkpoint (a batch is all or nothing, so nothing is
 * indexed twice or skipped) — so indexing, and the WAL retention that waits for it, resume by themselves
 * when space returns. Any other failure (a WAL it cannot read) stops it (`onError`).
 */
import { performance } from "node:perf_hooks";
import { checkInt, stripUndefined } from "../config/checks.js";
import { StorageError, StorageOptionError } from "./errors.js";
import type { Store } from "./store/store.js";
import { openWalReader, type WalGapListener, type WalReader } from "./wal/reader.js";

/** Options of {@link Indexer}. */
export interface IndexerOptions {
  /** The WAL directory (as given to `Wal.open`). */
  walDir: string;
  /** Highest seq that may be indexed, read before each batch. @default no limit: everything written */
  limitSeq?: () => number;
  /** Poll interval when caught up. @default 20 */
  idleMs?: number;
  /** Most frames per LevelDB batch. @default 65536 */
  maxBatchFrames?: number;
  /** WAL read buffer; bounds a batch's bytes. @default 4 MiB */
  readBufferBytes?: number;
  /** Wait after a failed store write before trying again. @default 1000 */
  retryMs?: number;
  /** Called once if the loop fails (it stops). @default rethrown from `stop()` */
  onError?: (err: unknown) => void;
  /** Called on each failed store write; the indexer tries again after `retryMs`. */
  onRetry?: (err: StorageError) => void;
  /** Told each range of seqs skipped because the WAL cannot give them (see the module doc). */
  onGap?: WalGapListener;
}

const INDEXER_DEFAULTS = { idleMs: 20, maxBatchFrames: 65536, readBufferBytes: 4 << 20, retryMs: 1000 };

/** Throughput figures since `start()`. */
export interface IndexerStats {
  frames: number;
  batches: number;
  /** Failed store writes, each retried. */
  retries: number;
  startedAtMs: number;
}

/** The WAL → store indexing loop. */
export class Indexer {
  private readonly opts: Required<Omit<IndexerOptions, "onError" | "onRetry" | "onGap" | "limitSeq">> &
    Pick<IndexerOptions, "onError" | "onRetry" | "onGap" | "limitSeq">;
  private reader: WalReader | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  /** Seqs the reader skipped during the last read (consecutive ranges merge), to skip in the store. */
  private gapFrom = 0;
  private gapTo = 0;
  private readonly waiters: { seq: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Frames and batches indexed since `start()`. */
  readonly stats: IndexerStats = { frames: 0, batches: 0, retries: 0, startedAtMs: 0 };

  constructor(
    private readonly store: Store,
    options: IndexerOptions,
  ) {
    const o = { ...INDEXER_DEFAULTS, ...stripUndefined(options) };
    if (typeof o.walDir !== "string" || o.walDir === "")
      throw new StorageOptionError("walDir", o.walDir, "a directory path");
    checkInt("idleMs", o.idleMs, 1, 60_000, StorageOptionError);
    checkInt("maxBatchFrames", o.maxBatchFrames, 1, 1 << 24, StorageOptionError);
    checkInt("readBufferBytes", o.readBufferBytes, 1 << 20, 1 << 30, StorageOptionError);
    checkInt("retryMs", o.retryMs, 1, 3_600_000, StorageOptionError);
    if (o.limitSeq !== undefined && typeof o.limitSeq !== "function") {
      throw new StorageOptionError("limitSeq", o.limitSeq, "a function");
    }
    this.opts = o as typeof this.opts;
  }

  /** Highest seq in the store (its checkpoint). */
  get indexedSeq(): number {
    return this.store.checkpoint;
  }

  /** Frames per second since `start()`. */
  rate(): number {
    const s = (performance.now() - this.stats.startedAtMs) / 1000;
    return s > 0 ? this.stats.frames / s : 0;
  }

  /** Starts indexing from the store's checkpoint + 1. */
  start(): void {
    if (this.running) return;
    this.openReader();
    this.running = true;
    this.stats.startedAtMs = performance.now();
    this.loop = this.run();
  }

  /** Resolves once `indexedSeq ≥ seq` (rejects if the loop fails or stops first). */
  waitFor(seq: number): Promise<void> {
    if (this.store.checkpoint >= seq) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Stops after the batch in flight; rejects with the loop's error if it failed and had no `onError`. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.reader?.close();
    this.reader = null;
    for (const w of this.waiters.splice(0)) w.reject(new Error("indexer stopped"));
    if (this.failure !== null && this.opts.onError === undefined) throw this.failure;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.indexUntilStopped();
        return;
      } catch (err) {
        if (!(err instanceof StorageError && err.code === "ERR_STORE_IO")) {
          this.failure = err;
          this.running = false;
          for (const w of this.waiters.splice(0)) w.reject(err);
          this.opts.onError?.(err);
          return;
        }
        this.stats.retries++;
        this.opts.onRetry?.(err);
        await this.idle(this.opts.retryMs);
        // The failed batch (and the one read behind it) is read again from the checkpoint.
        this.reader?.close();
        if (this.running) this.openReader();
      }
    }
  }

  /** The loop proper: reads the WAL and indexes, one batch in LevelDB while the next is read. */
  private async indexUntilStopped(): Promise<void> {
    const reader = this.reader!;
    let pending: Promise<void> | null = null;
    try {
      while (this.running) {
        const limit = this.opts.limitSeq?.() ?? Number.MAX_SAFE_INTEGER;
        const batch = await reader.next(limit);
        if (pending !== null) {
          await pending;
          pending = null;
          this.settle();
        }
        if (this.gapTo > 0) {
          await this.store.skip(this.gapFrom, this.gapTo);
          this.gapFrom = this.gapTo = 0;
          this.settle();
        }
        if (batch === null) {
          await this.idle(this.opts.idleMs);
          continue;
        }
        this.stats.frames += batch.count;
        this.stats.batches++;
        pending = this.store.index(batch);
        // Awaited after the next read; until then a failure must not count as unhandled.
        pending.catch(() => {});
      }
      if (pending !== null) {
        await pending;
        this.settle();
      }
    } finally {
      // A batch still in LevelDB's hands when a read fails is left to finish (or fail) on its own.
      pending?.catch(() => {});
    }
  }

  private openReader(): void {
    this.gapFrom = this.gapTo = 0;
    this.reader = openWalReader(this.opts.walDir, this.store.checkpoint + 1, {
      bufferBytes: this.opts.readBufferBytes,
      maxFrames: this.opts.maxBatchFrames,
      onGap: (from, to, reason, cause) => {
        if (this.gapTo === 0) this.gapFrom = from;
        this.gapTo = to;
        this.opts.onGap?.(from, to, reason, cause);
      },
    });
  }

  private settle(): void {
    const cp = this.store.checkpoint;
    const w = this.waiters;
    let kept = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i].seq <= cp) w[i].resolve();
      else w[kept++] = w[i];
    }
    w.length = kept;
  }

  /** Waits `ms`, or until `stop()`. */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        if (this.idleTimer !== null) clearTimeout(this.idleTimer);
        this.idleTimer = null;
        this.wake = null;
        resolve();
      };
      this.idleTimer = setTimeout(this.wake, ms);
    });
  }
}
