/**
 * Startup recovery of a data directory, before the daemon serves:
 *
 * 1. the acked mark (`<data>/acked-seq`) and the store open — on a disk too full for LevelDB to open, the
 *    reserve file is deleted for room (and the start reported as on a full disk);
 * 2. the WAL's end is checked against the mark and the store ({@link planWalRepair}): a tail the store can
 *    give back is restored from it; acked seqs nothing holds make the start fail ({@link WalDamageError},
 *    naming the file, the offset and the seqs, pointing to `tickring wal repair`) — never a silent cut, never
 *    a seq handed out twice;
 * 3. the WAL opens (cutting a torn tail of writes that were never durable);
 * 4. the reserve is created again, in the background, when there is room.
 *
 * A store ahead of the WAL is never rolled back: what it holds beyond the WAL's end was durable, so possibly
 * acked, and goes back into the WAL (step 2). Indexing the WAL from the store's checkpoint forward is NOT done
 * here: the daemon serves while its {@link Indexer} catches up in the background (reads of unindexed seqs
 * come from the WAL).
 *
 * Cost: the last segment and the newest sealed one are read and CRC-checked (≤ 2 × 64 MiB with default
 * segments, ≈ 0.1 s), whatever the size of the WAL or of its unindexed part.
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import {
  AckedSeqFile,
  dataDirLayout,
  DiskFullError,
  freeBytes,
  isDiskFull,
  RESERVE_BYTES,
  SpaceReserve,
  Store,
  Wal,
  type WalOpenReport,
  type WalOptions,
} from "../storage/index.js";
import { describeDamage, planWalRepair } from "./wal-repair-plan.js";
import { applyWalRepair } from "./wal-repair.js";

/** Options of {@link recoverDataDir}. */
export interface RecoverOptions {
  /** The data directory (the caller holds it: see `openDataDir`). */
  data: string;
  /** WAL settings (its `dir` is `<data>/wal`). */
  wal: Omit<WalOptions, "dir">;
  log: Logger;
  /** Told the recovery's progress, 0–100, as its steps complete (the daemon shows it on /healthz). */
  onProgress?: (percent: number) => void;
  /** Size of the reserve file kept in the data directory; 0 keeps none. @default 64 MiB */
  reserveBytes?: number;
  /**
   * Whether to (re)make the reserve file in the background once recovered. False for the offline commands
   * that hold the directory a while (`import csv --data`, `export --data`): a write still running when they
   * unlock it would race the next holder, and the daemon makes it at its start. @default true
   */
  ensureReserve?: boolean;
}

/** The opened, consistent storage a daemon resumes from. */
export interface Recovered {
  wal: Wal;
  store: Store;
  /** What the WAL open found; the sequencer resumes at `report.lastSeq + 1`. */
  report: WalOpenReport;
  /**
   * The acked mark, open. The daemon keeps it current: `acked.follow(() => wal.durableSeq)` once serving,
   * and `await acked.close()` after the WAL's last flush at shutdown.
   */
  acked: AckedSeqFile;
  /** The reserve file: `release()` it for headroom on a full disk, `ensure()` it again once space returns. */
  reserve: SpaceReserve;
  /**
   * Set when the disk was full at start (the reserve was deleted so the store could open): serve read-only,
   * with that reason on /healthz, until space returns.
   */
  diskFull?: { freeBytes: number; reserveReleased: number };
}

/** Opens, checks and repairs `<data>/wal` and `<data>/store`; see the module doc. */
export async function recoverDataDir(options: RecoverOptions): Promise<Recovered> {
  const { data, log } = options;
  const layout = dataDirLayout(data);
  const t0 = performance.now();
  options.onProgress?.(0);
  const reserve = new SpaceReserve(layout.reserveFile, options.reserveBytes ?? RESERVE_BYTES);
  let released = 0;
  /** Runs `step`; on a full disk, deletes the reserve and runs it once more. */
  const withHeadroom = async <T>(what: string, step: () => T | Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      const freed = reserve.release();
      if (freed === 0) throw new DiskFullError(data, 0, freeBytes(data), what, { cause: err });
      released += freed;
      log.warn({ freed, what }, "disk full at start: deleted the reserve file for room");
      try {
        return await step();
      } catch (again) {
        if (!isDiskFull(again)) throw again;
        throw new DiskFullError(data, 0, freeBytes(data), what, { cause: again });
      }
    }
  };
  const acked = await withHeadroom("opening the acked mark", () => AckedSeqFile.open(layout.ackedSeqFile));
  let store: Store | undefined;
  let wal: Wal | undefined;
  try {
    store = await withHeadroom("opening the store", () => Store.open({ dir: layout.storeDir }));
    options.onProgress?.(40);
    const plan = await planWalRepair({
      data,
      store,
      ackedSeq: acked.seq,
      indexIntervalBytes: options.wal.indexIntervalBytes,
    });
    if (plan.action === "restore") {
      const done = await withHeadroom("restoring the WAL from the store", () => applyWalRepair(plan, store!));
      log.warn(
        {
          file: plan.file,
          offset: plan.offset,
          reason: plan.reason,
          fromStore: done.fromStore,
          lastSeq: done.lastSeq,
        },
        `WAL repaired from the store: ${describeDamage(plan)}`,
      );
    } else {
      // `refuse` throws here, naming what is at stake; `none` and `cut` leave it to the open.
      await applyWalRepair(plan, store);
    }
    options.onProgress?.(60);
    const opened = await withHeadroom("opening the WAL", () =>
      Wal.open({ ...options.wal, dir: layout.walDir }),
    );
    wal = opened.wal;
    const report = opened.report;
    if (report.truncated !== undefined) {
      const { file, offset, reason, bytesCut } = report.truncated;
      log.warn(
        { file, offset, reason, bytesCut, lastSeq: report.lastSeq },
        "WAL tail torn: cut at the first bad record (never durable, never acked)",
      );
    }
    for (const d of report.sealedDamage ?? []) {
      log.warn(
        d,
        "sealed WAL segment damaged: readers skip the unreadable seqs (or read them from the store)",
      );
    }
    options.onProgress?.(100);
    log.info(
      {
        seq: report.lastSeq,
        ackedSeq: acked.seq,
        indexedSeq: store.checkpoint,
        unindexed: report.lastSeq - store.checkpoint,
        ms: Math.round(performance.now() - t0),
      },
      "recovered",
    );
    const recovered: Recovered = { wal, store, report, acked, reserve };
    if (released > 0) recovered.diskFull = { freeBytes: freeBytes(data), reserveReleased: released };
    else if (options.ensureReserve !== false) {
      reserve.ensure().catch((err: unknown) => log.warn({ err }, "the reserve file could not be created"));
    }
    return recovered;
  } catch (err) {
    await wal?.close().catch(() => {});
    await store?.close();
    await acked.close();
    throw err;
  }
}
