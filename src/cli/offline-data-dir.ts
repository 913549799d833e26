/**
 * A stopped daemon's data directory, opened by an offline command (`import csv --data`, `export --data`):
 * locked (a running daemon, or another command, is refused with `ERR_DATA_LOCKED`) and recovered as the
 * daemon would at start — a torn WAL tail cut, a store ahead of the WAL rolled back.
 */
import { createLogger } from "../logger.js";
import { recoverDataDir } from "../recovery/index.js";
import { type DataDir, openDataDir, type Store, type Wal } from "../storage/index.js";

export interface OfflineDataDir {
  dataDir: DataDir;
  wal: Wal;
  store: Store;
  /** Closes the WAL and the store, and unlocks the directory. */
  close(): Promise<void>;
}

/** Locks and recovers `path` (created when absent). */
export async function openOfflineDataDir(path: string): Promise<OfflineDataDir> {
  const dataDir = await openDataDir(path);
  try {
    const { wal, store } = await recoverDataDir({
      data: path,
      wal: { fsync: "os" },
      log: createLogger("warn"),
    });
    return {
      dataDir,
      wal,
      store,
      close: async () => {
        try {
          await wal.close();
          await store.close();
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
