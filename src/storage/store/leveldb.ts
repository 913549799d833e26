/**
 * The one seam to classic-level (LevelDB): nothing else in tickring imports it. Keys and values are raw bytes
 * (`view` encodings, no conversion), and a failure to open comes back as a {@link StorageError} naming the
 * directory, with LevelDB's own error as `cause` — classic-level alone says only "Database failed to open".
 *
 * LevelDB holds an exclusive lock (`<dir>/LOCK`) per process; worker threads of the same process share it
 * only when every opener passes `multithreading: true` (NOTES.md).
 */
import { ClassicLevel } from "classic-level";
import { DataLockedError, StorageError } from "../errors.js";
import { makeDir } from "../make-dir.js";

/** An open LevelDB of byte keys and byte values. */
export type LevelDb = ClassicLevel<Uint8Array, Uint8Array>;
/** An explicit LevelDB snapshot: reads through it see one instant. */
export type LevelSnapshot = ReturnType<LevelDb["snapshot"]>;
/** One put of a batch. */
export interface LevelPut {
  type: "put";
  key: Uint8Array;
  value: Uint8Array;
}
/** One delete of a batch. */
export interface LevelDel {
  type: "del";
  key: Uint8Array;
}

/** Encodings for iterators and reads: keys and values as `Uint8Array` views, never strings. */
export const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;

/** How {@link openLevelDb} opens. */
export interface LevelOpenOptions {
  /** Let other threads of this process open the same directory (they must pass it too). @default false */
  multithreading?: boolean;
  /** Create the database when absent. @default true */
  createIfMissing?: boolean;
  /** Fail when the database already exists. @default false */
  errorIfExists?: boolean;
}

/**
 * Opens the LevelDB in `dir`. Throws {@link DataLockedError} (`ERR_DATA_LOCKED`) when another process holds
 * it, and a {@link StorageError} `ERR_STORE_IO` naming `dir` and LevelDB's reason for anything else.
 */
export async function openLevelDb(dir: string, options: LevelOpenOptions = {}): Promise<LevelDb> {
  // classic-level creates a missing directory with Node's recursive mkdir, which spins where mkdir answers
  // ENOENT (under /proc): create it here first, failing fast.
  if (options.createIfMissing !== false) makeDir(dir);
  const db: LevelDb = new ClassicLevel<Uint8Array, Uint8Array>(dir, VIEW);
  try {
    await db.open(options);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === "LEVEL_LOCKED") throw new DataLockedError(dir, null, { cause: err });
    const reason = cause?.message ?? (err as Error).message;
    throw new StorageError("ERR_STORE_IO", `cannot open the store ${dir}: ${reason}`, { cause: err });
  }
  return db;
}
