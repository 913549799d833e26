/**
 * Startup recovery of a data directory, before the daemon serves: open the WAL (which scans its last
 * segment and cuts a torn or corrupt tail), open the store, and roll the store back if it is ahead of what
 * the WAL kept. Indexing the WAL from the store's checkpoint forward is NOT done here: the daemon serves
 * while its {@link Indexer} catches up in the background (reads of unindexed seqs come from the WAL).
 *
 * Cost: the last segment and the newest sealed one are read and CRC-checked (≤ 2 × 64 MiB with default
 * segments, ≈ 0.1 s), whatever the size of the WAL or of its unindexed part.
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { dataDirLayout, Store, Wal, type WalOpenReport, type WalOptions } from "../storage/index.js";

/** Options of {@link recoverDataDir}. */
export interface RecoverOptions {
  /** The data directory (the caller holds it: see `openDataDir`). */
  data: string;
  /** WAL settings (its `dir` is `<data>/wal`). */
  wal: Omit<WalOptions, "dir">;
  log: Logger;
  /** Told the recovery's progress, 0–100, as its steps complete (the daemon shows it on /healthz). */
  onProgress?: (percent: number) => void;
}

/** The opened, consistent storage a daemon resumes from. */
export interface Recovered {
  wal: Wal;
  store: Store;
  /** What the WAL open found; the sequencer resumes at `report.lastSeq + 1`. */
  report: WalOpenReport;
}

/** Opens and repairs `<data>/wal` and `<data>/store`; see the module doc. */
export async function recoverDataDir(options: RecoverOptions): Promise<Recovered> {
  const { data, log } = options;
  const { walDir, storeDir } = dataDirLayout(data);
  const t0 = performance.now();
  options.onProgress?.(0);
  const { wal, report } = await Wal.open({ ...options.wal, dir: walDir });
  if (report.truncated !== undefined) {
    const { file, offset, reason, bytesCut } = report.truncated;
    log.warn(
      { file, offset, reason, bytesCut, lastSeq: report.lastSeq },
      "WAL tail torn or corrupt: cut at the first bad record",
    );
  }
  options.onProgress?.(50);
  let store: Store;
  try {
    store = await Store.open({ dir: storeDir });
  } catch (err) {
    await wal.close();
    throw err;
  }
  if (store.checkpoint > report.lastSeq) {
    // The WAL lost a tail the store had indexed (a cut corrupt record, or power loss under fsync=os): the WAL
    // is the truth, and the sequencer will reuse those seqs, so the store must forget them first.
    log.warn(
      { checkpoint: store.checkpoint, walLastSeq: report.lastSeq },
      "store ahead of the WAL: rolling it back",
    );
    await store.rollbackTo(report.lastSeq);
  }
  options.onProgress?.(100);
  log.info(
    {
      seq: report.lastSeq,
      indexedSeq: store.checkpoint,
      unindexed: report.lastSeq - store.checkpoint,
      ms: Math.round(performance.now() - t0),
    },
    "recovered",
  );
  return { wal, store, report };
}
