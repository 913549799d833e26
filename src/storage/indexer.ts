/**
 * Feeds the store from the WAL, behind it: reads batches with a {@link WalReader} from `checkpoint + 1` and
 * hands each to {@link Store.index} (blocks + checkpoint in one atomic LevelDB batch). While LevelDB applies one
 * batch the next is read from the WAL (the store copies frames before its promise, so the reader may reuse its
 * buffer). When caught up it polls every `idleMs`.
 *
 * Only seqs ≤ `limitSeq()` are indexed. Pass `() => wal.durableSeq` so the store never holds a record that a
 * power loss could cut from the WAL (the checkpoint would then be ahead of the WAL's resumed seq).
 */
import { performance } from "node:perf_hooks";
import { checkInt, stripUndefined } from "../config/checks.js";
import { StorageOptionError } from "./errors.js";
import type { Store } from "./store/store.js";
import { openWalReader, type WalReader } from "./wal/reader.js";

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
}

const INDEXER_DEFAULTS = { idleMs: 20, maxBatchFrames: 65536, readBufferBytes: 4 << 20 };

/** Throughput figures since `start()`. */
export interface IndexerStats {
  frames: number;
  batches: number;
  startedAtMs: number;
}

/** The WAL → store indexing loop. */
export class Indexer {
  private readonly opts: Required<Omit<IndexerOptions, "onError" | "limitSeq">> &
    Pick<IndexerOptions, "onError" | "limitSeq">;
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
    this.reader = openWalReader(this.opts.walDir, this.store.checkpoint + 1, {
      bufferBytes: this.opts.readBufferBytes,
      maxFrames: this.opts.maxBatchFrames,
    });
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
        if (batch === null) {
          await this.idle();
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
    } catch (err) {
      this.failure = err;
      this.running = false;
      for (const w of this.waiters.splice(0)) w.reject(err);
      this.opts.onError?.(err);
    }
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

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        if (this.idleTimer !== null) clearTimeout(this.idleTimer);
        this.idleTimer = null;
        this.wake = null;
        resolve();
      };
      this.idleTimer = setTimeout(this.wake, this.opts.idleMs);
    });
  }
}
