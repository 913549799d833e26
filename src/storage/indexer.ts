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
 * is skipped ({@link Store.skip}: the checkpoint moves past it with no frame) and told to `onGap`, so one bad
 * record does not stop indexing, and the WAL retention behind it, for good.
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
  /** Called once if the loop fails (it stops). @default rethrown from `stop()` */
  onError?: (err: unknown) => void;
  /** Called after each batch lands, with the new checkpoint. @default nothing is told */
  onBatch?: (checkpoint: number) => void;
  /**
   * Called when the store could not write a batch (`ERR_STORE_IO`: a full disk, an I/O error): the indexer
   * waits `delayMs` and tries again from its checkpoint, with a delay that doubles up to
   * {@link MAX_RETRY_MS}. Reads keep being served from the WAL meanwhile, and the WAL keeps every segment the
   * store does not hold. @default nothing is told
   */
  onRetry?: (err: unknown, delayMs: number) => void;
  /** Told each range of seqs skipped because the WAL cannot give them (see the module doc). */
  onGap?: WalGapListener;
}

const INDEXER_DEFAULTS = { idleMs: 20, maxBatchFrames: 65536, readBufferBytes: 4 << 20 };
/** First and longest wait before the indexer retries a store write that failed. */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/** Throughput figures since `start()`. */
export interface IndexerStats {
  frames: number;
  batches: number;
  startedAtMs: number;
}

/** The WAL → store indexing loop. */
export class Indexer {
  private readonly opts: Required<
    Omit<IndexerOptions, "onError" | "limitSeq" | "onRetry" | "onBatch" | "onGap">
  > &
    Pick<IndexerOptions, "onError" | "limitSeq" | "onRetry" | "onBatch" | "onGap">;
  /** Seqs the reader skipped during its last read (consecutive ranges merge), to skip in the store. */
  private gapFrom = 0;
  private gapTo = 0;
  private reader: WalReader | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private readonly waiters: { seq: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Frames and batches indexed since `start()`. */
  readonly stats: IndexerStats = { frames: 0, batches: 0, startedAtMs: 0 };

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
    this.reader = this.openReader();
    this.running = true;
    this.stats.startedAtMs = performance.now();
    this.loop = this.run();
  }

  private openReader(): WalReader {
    this.gapFrom = this.gapTo = 0;
    return openWalReader(this.opts.walDir, this.store.checkpoint + 1, {
      bufferBytes: this.opts.readBufferBytes,
      maxFrames: this.opts.maxBatchFrames,
      onGap: (from, to, reason, cause) => {
        if (this.gapTo === 0) this.gapFrom = from;
        this.gapTo = to;
        this.opts.onGap?.(from, to, reason, cause);
      },
    });
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
    let retryMs = FIRST_RETRY_MS;
    while (this.running) {
      try {
        await this.indexUntilStopped();
        return;
      } catch (err) {
        if (!(err instanceof StorageError && err.code === "ERR_STORE_IO") || !this.running) {
          this.failure = err;
          this.running = false;
          for (const w of this.waiters.splice(0)) w.reject(err);
          this.opts.onError?.(err);
          return;
        }
        // The batch in flight did not land: start again from the checkpoint once the store can write.
        this.opts.onRetry?.(err, retryMs);
        await this.idle(retryMs);
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
        this.reader?.close();
        this.reader = this.openReader();
      }
    }
  }

  /** The loop proper: while LevelDB applies one batch the next is read from the WAL. */
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
        // Awaited after the next read: marked handled now, so a write that fails during that read (a full
        // disk) is not an unhandled rejection; the await below still throws it.
        pending.catch(() => {});
      }
      if (pending !== null) {
        await pending;
        this.settle();
      }
    } finally {
      await pending?.catch(() => {});
    }
  }

  private settle(): void {
    const cp = this.store.checkpoint;
    this.opts.onBatch?.(cp);
    const w = this.waiters;
    let kept = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i].seq <= cp) w[i].resolve();
      else w[kept++] = w[i];
    }
    w.length = kept;
  }

  /** Waits `ms`, or less if {@link stop} wakes it. */
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
