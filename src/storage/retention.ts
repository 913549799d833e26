/**
 * Retention: drops old WAL segments and old store blocks by age and/or size.
 *
 * A WAL segment goes only when it is sealed and the store's checkpoint covers every seq in it, whatever the
 * limits say: the WAL is the only copy of what the indexer has not reached (nor, under replication, of
 * what the stream lacks). Segments go oldest first, so the
 * WAL stays one gap-free run. Store data goes at block granularity (a block straddling the cutoff stays).
 */
import { statSync } from "node:fs";
import { StorageOptionError } from "./errors.js";
import type { Store } from "./store/store.js";
import type { Wal } from "./wal/wal.js";

/** Limits; an absent one does not apply. */
export interface RetentionOptions {
  /** Drop sealed WAL segments last written longer ago than this. */
  walMaxAgeMs?: number;
  /** Drop the oldest sealed WAL segments while the WAL is larger than this. */
  walMaxBytes?: number;
  /** Drop store blocks whose frames are all older (ts_recv) than this. */
  storeMaxAgeMs?: number;
  /** Drop the oldest store data while LevelDB's size estimate is larger than this. */
  storeMaxBytes?: number;
  /**
   * The WAL keeps every seq above this whatever the limits say (a replicating leader's stream lacks them,
   * and its replicator reads them from the WAL). @default no such hold
   */
  walKeepAfterSeq?: () => number;
  /** The clock. @default Date.now */
  nowMs?: () => number;
}

/** What one {@link applyRetention} pass removed. */
export interface RetentionReport {
  walSegmentsRemoved: string[];
  /**
   * True when a WAL limit wanted more gone but the store's checkpoint (or {@link RetentionOptions.walKeepAfterSeq})
   * did not cover it yet.
   */
  walHeldByCheckpoint: boolean;
  storeSeqBlocksRemoved: number;
  storeTimeBlocksRemoved: number;
}

function checkLimit(name: string, v: number | undefined): void {
  if (v !== undefined && (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v))) {
    throw new StorageOptionError(name, v, "a finite number ≥ 0");
  }
}

/** Validates {@link RetentionOptions}; throws naming the bad limit. */
export function parseRetentionOptions(o: RetentionOptions): RetentionOptions {
  checkLimit("walMaxAgeMs", o.walMaxAgeMs);
  checkLimit("walMaxBytes", o.walMaxBytes);
  checkLimit("storeMaxAgeMs", o.storeMaxAgeMs);
  checkLimit("storeMaxBytes", o.storeMaxBytes);
  return o;
}

/** One retention pass over the WAL and the store. */
export async function applyRetention(
  wal: Wal,
  store: Store,
  options: RetentionOptions,
): Promise<RetentionReport> {
  const o = parseRetentionOptions(options);
  const now = (o.nowMs ?? Date.now)();
  const report: RetentionReport = {
    walSegmentsRemoved: [],
    walHeldByCheckpoint: false,
    storeSeqBlocksRemoved: 0,
    storeTimeBlocksRemoved: 0,
  };
  // The indexer may run on another thread with its own handle of the store: take its latest checkpoint.
  await store.refreshCheckpoint();
  const removableUpTo = Math.min(store.checkpoint, o.walKeepAfterSeq?.() ?? Infinity);
  const segments = wal.segments();
  let total = 0;
  for (const s of segments) total += s.bytes;
  for (const s of segments) {
    if (s.active) break;
    const tooBig = o.walMaxBytes !== undefined && total > o.walMaxBytes;
    const tooOld = o.walMaxAgeMs !== undefined && statSync(s.file).mtimeMs < now - o.walMaxAgeMs;
    if (!tooBig && !tooOld) break;
    const removed = wal.removeOldestSegment(removableUpTo);
    if (removed === null) {
      report.walHeldByCheckpoint = true;
      break;
    }
    report.walSegmentsRemoved.push(removed);
    total -= s.bytes;
  }
  let cutoffMs: number | null = o.storeMaxAgeMs !== undefined ? now - o.storeMaxAgeMs : null;
  if (o.storeMaxBytes !== undefined) {
    const bytes = await store.approximateBytes();
    const oldest = await store.oldestTsApprox();
    if (bytes > o.storeMaxBytes && oldest !== null) {
      // Drop the oldest share of the time span in proportion to the excess; later passes refine it.
      const oldestMs = oldest / 1e6;
      const sizeCut = oldestMs + (now - oldestMs) * (1 - o.storeMaxBytes / bytes);
      cutoffMs = cutoffMs === null ? sizeCut : Math.max(cutoffMs, sizeCut);
    }
  }
  if (cutoffMs !== null) {
    const r = await store.deleteOlderThan(BigInt(Math.floor(cutoffMs)) * 1_000_000n);
    report.storeSeqBlocksRemoved = r.seqBlocks;
    report.storeTimeBlocksRemoved = r.timeBlocks;
  }
  return report;
}
