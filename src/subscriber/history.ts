/**
 * History as one forward stream of frames by seq: the LevelDB store for seqs the WAL no longer holds
 * (retention removes a WAL segment only once the store has it), then the WAL, which it can tail while
 * the sequencer is still writing. Batches are views into a reader's buffer, valid until the next read.
 */
import { frameTsRecvApprox } from "../frame/codec.js";
import {
  type FrameBatch,
  listSegments,
  openWalReader,
  type Store,
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

export class HistoryReader {
  private wal: WalReader | null = null;
  private storeBatches: AsyncGenerator<FrameBatch> | null = null;
  private next: number;

  constructor(
    private readonly sources: HistorySources,
    fromSeq: number,
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
        if (!r.done) return this.took(r.value);
        this.storeBatches = null;
      }
      if (this.wal === null) {
        // Only when (re)entering the WAL: listing the directory per batch cost a readdir per 1 MiB read.
        const firstWal = firstWalSeq(this.sources.walDir);
        if (this.next < firstWal) {
          const store = await this.sources.store();
          const storeFirst = await store.firstSeq();
          if (storeFirst > this.next && storeFirst > 0) this.next = Math.min(storeFirst, firstWal);
          if (this.next < firstWal && this.next <= store.checkpoint) {
            this.storeBatches = store.readBySeq(this.next, Math.min(maxSeq, firstWal - 1, store.checkpoint));
            continue;
          }
          // No segment yet (nothing was ever written): nothing to read yet, and nothing to skip.
          if (firstWal === Number.MAX_SAFE_INTEGER) return null;
          this.next = Math.max(this.next, firstWal);
        }
      }
      try {
        this.wal ??= openWalReader(this.sources.walDir, this.next, { bufferBytes: READ_BUFFER_BYTES });
        const batch = this.wal.nextSync(maxSeq);
        return batch === null ? null : this.took(batch);
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

  private took(batch: FrameBatch): FrameBatch {
    this.next = batch.lastSeq + 1;
    return batch;
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
    const reader = new HistoryReader(sources, mid);
    try {
      const batch = await reader.read(mid);
      // A missing seq (retention) counts as old: search above it.
      const ts = batch === null ? Number.NEGATIVE_INFINITY : frameTsRecvApprox(batch.bytes, batch.offsets[0]);
      if (ts >= timeNs) b = mid;
      else a = mid + 1;
    } finally {
      reader.close();
    }
  }
  return a;
}
