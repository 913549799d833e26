/**
 * History as one forward stream of frames by seq: the LevelDB store for seqs the WAL no longer holds
 * (retention removes a WAL segment only once the store has it), then the WAL, which it can tail while
 * the sequencer is still writing. Batches are views into a reader's buffer, valid until the next read.
 *
 * Seqs the WAL cannot give — damaged records in a sealed segment, a hole `tickring wal repair` recorded — are
 * read from the store when it holds them; what nothing holds is a gap: told to `onGap` (`"unreadable"` or
 * `"lost"`) in stream order, between the frames before it and those after, and skipped. Without `onGap` the
 * read fails there instead (the WAL's own error), so a gap is never silent.
 */
import { frameTsRecvApprox } from "../frame/codec.js";
import {
  type FrameBatch,
  holeCovering,
  listHoles,
  listSegments,
  openWalReader,
  type StorageError,
  type Store,
  type WalGapReason,
  WalGapError,
  type WalReader,
  WalSeqRetiredError,
} from "../storage/index.js";

/** Where history lives; the store is opened on first use (most replays never leave the WAL). */
export interface HistorySources {
  walDir: string;
  store(): Promise<Store>;
}

/** WAL read buffer per replay: bounds a replay's memory and the size of one batch. */
const READ_BUFFER_BYTES = 1 << 20;

/**
 * Told that seqs `from`..`to` (never beyond the `maxSeq` of the read) will not come: nothing holds them. A
 * replay sends `{"op":"gap","id":N,"from":from,"to":to,"reason":reason}` at that point of its stream.
 */
export type HistoryGapListener = (from: number, to: number, reason: WalGapReason) => void;

export class HistoryReader {
  private wal: WalReader | null = null;
  private storeBatches: AsyncGenerator<FrameBatch> | null = null;
  private next: number;
  /** Seqs the WAL reader skipped and this reader has not yet passed: from the store, else a gap. */
  private walGap: { to: number; reason: WalGapReason; cause: StorageError } | null = null;
  /** Whether the store was asked for the part of `walGap` at `next`. */
  private gapTriedStore = false;
  /** The WAL batch read after a skip, held until the skipped seqs are dealt with. */
  private held: FrameBatch | null = null;
  /** The last seq the store read in progress covers, when it reads seqs before the WAL's (0 otherwise). */
  private storeUntil = 0;

  constructor(
    private readonly sources: HistorySources,
    fromSeq: number,
    private readonly onGap?: HistoryGapListener,
  ) {
    this.next = fromSeq;
  }

  /** The seq the next frame read will have (or the first available after it, if retention took it). */
  get nextSeq(): number {
    return this.next;
  }

  /**
   * The next batch of frames from {@link nextSeq}, none above `maxSeq`; null when nothing more is
   * available yet (the WAL's end) or `maxSeq` is reached.
   */
  async read(maxSeq: number): Promise<FrameBatch | null> {
    if (this.next > maxSeq) return null;
    for (;;) {
      if (this.storeBatches !== null) {
        const r = await this.storeBatches.next();
        if (!r.done) return this.took(r.value, maxSeq);
        this.storeBatches = null;
        // Seqs up to the checkpoint with no frame were skipped by the indexer: nothing holds them.
        if (this.next <= this.storeUntil) this.gap(this.storeUntil, this.reasonAt(this.next), null);
        this.storeUntil = 0;
        if (this.next > maxSeq) return null;
      }
      if (this.walGap !== null) {
        if (this.next <= this.walGap.to) {
          const until = Math.min(this.walGap.to, maxSeq);
          if (!this.gapTriedStore) {
            // Read the skipped seqs from the store where it holds them.
            this.gapTriedStore = true;
            const store = await this.sources.store();
            if (store.checkpoint >= this.next) {
              this.storeBatches = store.readBySeq(this.next, Math.min(until, store.checkpoint));
              continue;
            }
          }
          this.gap(until, this.walGap.reason, this.walGap.cause);
          this.gapTriedStore = false;
          if (this.next > maxSeq) return null;
          continue;
        }
        this.walGap = null;
      }
      if (this.held !== null) {
        const b = this.held;
        this.held = null;
        return this.took(b, maxSeq);
      }
      if (this.wal === null) {
        // Only when (re)entering the WAL: listing the directory per batch cost a readdir per 1 MiB read.
        const firstWal = firstWalSeq(this.sources.walDir);
        if (this.next < firstWal) {
          const store = await this.sources.store();
          const storeFirst = await store.firstSeq();
          if (storeFirst > this.next && storeFirst > 0) this.next = Math.min(storeFirst, firstWal);
          if (this.next < firstWal && this.next <= store.checkpoint) {
            this.storeUntil = Math.min(maxSeq, firstWal - 1, store.checkpoint);
            this.storeBatches = store.readBySeq(this.next, this.storeUntil);
            continue;
          }
          // No segment yet (nothing was ever written): nothing to read yet, and nothing to skip.
          if (firstWal === Number.MAX_SAFE_INTEGER) return null;
          this.next = Math.max(this.next, firstWal);
        }
      }
      try {
        this.wal ??= openWalReader(this.sources.walDir, this.next, {
          bufferBytes: READ_BUFFER_BYTES,
          // It starts where this reader stands; consecutive skips in one read merge.
          onGap: (_from, to, reason, cause) => {
            this.walGap = { to, reason: this.walGap?.reason ?? reason, cause: this.walGap?.cause ?? cause };
            this.gapTriedStore = false;
          },
        });
        const batch = this.wal.nextSync(maxSeq);
        if (this.walGap !== null) {
          this.held = batch;
          continue;
        }
        return batch === null ? null : this.took(batch, maxSeq);
      } catch (err) {
        if (!(err instanceof WalSeqRetiredError)) throw err;
        // Retention removed the segment under us: the store has it now.
        this.wal?.close();
        this.wal = null;
      }
    }
  }

  close(): void {
    this.wal?.close();
    this.wal = null;
    this.storeBatches?.return(undefined);
    this.storeBatches = null;
  }

  /** Hands out `batch`. A batch starting past the next seq (the store has no frames for seqs it skipped) is a gap first. */
  private took(batch: FrameBatch, maxSeq: number): FrameBatch {
    if (batch.firstSeq > this.next)
      this.gap(Math.min(batch.firstSeq - 1, maxSeq), this.reasonAt(this.next), null);
    this.next = batch.lastSeq + 1;
    return batch;
  }

  /** Why the store has no frame of `seq`: a recorded hole (lost), else a range the WAL could not give. */
  private reasonAt(seq: number): WalGapReason {
    return holeCovering(listHoles(this.sources.walDir), seq) !== undefined ? "lost" : "unreadable";
  }

  /** Seqs `next`..`to` will not come: tells `onGap` (or throws `cause`, or a gap error) and moves past them. */
  private gap(to: number, reason: WalGapReason, cause: StorageError | null): void {
    const from = this.next;
    this.next = to + 1;
    if (this.onGap !== undefined) {
      this.onGap(from, to, reason);
      return;
    }
    throw cause ?? new WalGapError(this.sources.walDir, from, to + 1);
  }
}

/**
 * The oldest seq history still holds (what retention left in the store or the WAL); `Number.MAX_SAFE_INTEGER`
 * when it holds nothing.
 */
export async function oldestSeq(sources: HistorySources): Promise<number> {
  const firstWal = firstWalSeq(sources.walDir);
  const store = await sources.store();
  const storeFirst = store.checkpoint > 0 ? await store.firstSeq() : 0;
  return storeFirst > 0 ? Math.min(storeFirst, firstWal) : firstWal;
}

function firstWalSeq(walDir: string): number {
  const segments = listSegments(walDir);
  return segments.length === 0 ? Number.MAX_SAFE_INTEGER : segments[0].firstSeq;
}

/**
 * The first seq whose ts_recv is ≥ `timeNs`, between `lo` and `hi` (hi + 1 when none is). ts_recv is
 * stamped by the sequencer from a monotonic clock, so it does not decrease with seq; a binary search
 * reads about log2(hi − lo) frames.
 */
export async function seqAtTime(
  sources: HistorySources,
  timeNs: number,
  lo: number,
  hi: number,
): Promise<number> {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    // A seq nothing holds has no time: skip it like a retired one.
    const reader = new HistoryReader(sources, mid, () => {});
    try {
      const batch = await reader.read(mid);
      // A missing seq (retention, or a gap) counts as old: search above it.
      const ts = batch === null ? Number.NEGATIVE_INFINITY : frameTsRecvApprox(batch.bytes, batch.offsets[0]);
      if (ts >= timeNs) b = mid;
      else a = mid + 1;
    } finally {
      reader.close();
    }
  }
  return a;
}
