/**
 * The layout of a data directory — the only place that spells its names — and opening one for writing.
 *
 * ```
 *  <data>/
 *  ├── tickring.lock    pid of the process that holds the directory (see ./lock-file.ts)
 *  ├── acked-seq        the highest seq ever acked, kept apart from the WAL (see ./acked-seq.ts)
 *  ├── reserve          64 MiB of headroom a start on a full disk deletes (see ./disk-space.ts)
 *  ├── imports.json     what `tickring import` imported into it (src/cli/import/ledger.ts)
 *  ├── import.spool     the frames of a file being imported, checked before they go to the WAL
 *  ├── wal/             WAL segments <first-seq>.log, their sparse indexes <first-seq>.idx, and holes
 *  │                    <first-seq>.hole (seqs lost for good, recorded by `tickring wal repair`)
 *  ├── store/           the LevelDB store
 *  └── snapshots/<id>/  snapshots, by default (a snapshot has wal/ and store/ too, under the same names)
 * ```
 *
 * A process that writes the directory — the daemon, and offline commands such as `snapshot restore` —
 * opens it with {@link openDataDir} first, which creates it when absent and takes the lock, so a second
 * writer is refused with `ERR_DATA_LOCKED` naming the holder's pid before it touches anything (a second
 * daemon would otherwise cut the first one's WAL tail as "torn" at its open). Readers in the holder's
 * process (its worker threads) use {@link dataDirLayout}.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { isDiskFull, SpaceReserve } from "./disk-space.js";
import { DataMissingError } from "./errors.js";
import { acquireLock, type HeldLock } from "./lock-file.js";
import { makeDir } from "./make-dir.js";

/** Sub-directory holding the WAL segments (in a data directory and in a snapshot). */
export const WAL_DIR = "wal";
/** Sub-directory holding the LevelDB store (in a data directory and in a snapshot). */
export const STORE_DIR = "store";
/** Sub-directory of a data directory where snapshots go by default. */
export const SNAPSHOTS_DIR = "snapshots";
/** The lock file of a data directory. */
export const LOCK_FILE = "tickring.lock";
/** The file holding the highest seq ever acked. */
export const ACKED_SEQ_FILE = "acked-seq";
/** The reserve file a start on a full disk deletes for headroom. */
export const RESERVE_FILE = "reserve";
/** The ledger of the files `tickring import` imported into a data directory. */
export const IMPORTS_FILE = "imports.json";
/** Where `tickring import` keeps a file's frames between checking them and appending them. */
export const IMPORT_SPOOL_FILE = "import.spool";

/** The paths of one data directory. */
export interface DataDirLayout {
  /** The data directory itself, as given. */
  readonly path: string;
  readonly walDir: string;
  readonly storeDir: string;
  readonly snapshotsDir: string;
  readonly lockFile: string;
  readonly ackedSeqFile: string;
  readonly reserveFile: string;
  readonly importsFile: string;
  readonly importSpool: string;
}

/** A data directory this process holds (locked) until {@link DataDir.release}. */
export interface DataDir extends DataDirLayout {
  /** Gives up the lock (the daemon calls it last in its close). Idempotent. */
  release(): void;
}

/** The paths of the data directory `path`; touches nothing on disk. */
export function dataDirLayout(path: string): DataDirLayout {
  return {
    path,
    walDir: join(path, WAL_DIR),
    storeDir: join(path, STORE_DIR),
    snapshotsDir: join(path, SNAPSHOTS_DIR),
    lockFile: join(path, LOCK_FILE),
    ackedSeqFile: join(path, ACKED_SEQ_FILE),
    reserveFile: join(path, RESERVE_FILE),
    importsFile: join(path, IMPORTS_FILE),
    importSpool: join(path, IMPORT_SPOOL_FILE),
  };
}

/**
 * The paths of the existing data directory `path`, for commands that read one (`snapshot list`): throws
 * {@link DataMissingError} (`ERR_DATA_MISSING`) when `path` does not exist or has neither wal/ nor store/ (a
 * daemon creates both at its first start).
 */
export function existingDataDir(path: string): DataDirLayout {
  const layout = dataDirLayout(path);
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) throw new DataMissingError(path, "does not exist");
  if (!st.isDirectory() || (!existsSync(layout.walDir) && !existsSync(layout.storeDir)))
    throw new DataMissingError(path, "is not a tickring data directory (no wal/ or store/)");
  return layout;
}

/**
 * Creates the data directory `path` when absent (`ERR_DATA_DIR` when it cannot be: never a hang) and locks it
 * for this process (`ERR_DATA_LOCKED` with the holder's pid when another process holds it; a lock left by a
 * dead process is taken over). On a disk too full to write the lock's few bytes, the reserve file is
 * deleted for room and the lock taken again.
 */
export async function openDataDir(path: string): Promise<DataDir> {
  const layout = dataDirLayout(path);
  makeDir(path);
  let lock: HeldLock;
  try {
    lock = acquireLock(layout.lockFile, path);
  } catch (err) {
    if (!isDiskFull(err) || new SpaceReserve(layout.reserveFile).release() === 0) throw err;
    lock = acquireLock(layout.lockFile, path);
  }
  return { ...layout, release: () => lock.release() };
}
