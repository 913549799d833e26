/**
 * A stopped daemon's data directory, opened by an offline command (`import csv --data`, `export --data`):
 * locked (a running daemon, or another command, is refused with `ERR_DATA_LOCKED`) and recovered as the
 * daemon would at start — a torn WAL tail cut, a store ahead of the WAL rolled back. Recovery's warnings go
 * to stderr (stdout is the command's result); the reserve file is left to the daemon's next start.
 */
import { createLogger } from "../logger.js";
import { recoverDataDir } from "../recovery/index.js";
import { type AckedSeqFile, type DataDir, openDataDir, type Store, type Wal } from "../storage/index.js";

export interface OfflineDataDir {
  dataDir: DataDir;
  wal: Wal;
  store: Store;
  /**
   * The acked mark: what an offline writer made durable counts as acked (its ledger says so), so that a later
   * start never rolls it back as never acked.
   */
  acked: AckedSeqFile;
  /** Closes the WAL, the store and the mark, and unlocks the directory. */
  close(): Promise<void>;
}

/** Locks and recovers `path` (created when absent). */
export async function openOfflineDataDir(path: string): Promise<OfflineDataDir> {
  const dataDir = await openDataDir(path);
  try {
    const { wal, store, acked } = await recoverDataDir({
      data: path,
      wal: { fsync: "os" },
      log: createLogger("warn", "stderr"),
      ensureReserve: false,
    });
    return {
      dataDir,
      wal,
      store,
      acked,
      close: async () => {
        try {
          await wal.close();
          await store.close();
          await acked.close();
        } finally {
          dataDir.release();
        }
      },
    };
  } catch (err) {
    dataDir.release();
    throw err;
  }
}
