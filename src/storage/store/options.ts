/**
 * Store options: one typed interface, defaults in one place, validated once ({@link parseStoreOptions}) with
 * errors naming the bad option and value.
 */
import { checkInt, stripUndefined } from "../../config/checks.js";
import { StorageOptionError } from "../errors.js";

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Directory of the LevelDB database (the daemon passes `<data>/store`). */
  dir: string;
  /**
   * Open so that worker threads of this process may open the same directory too (the replay pool); every
   * opener must pass it. On by default: the daemon's replay workers read the store while the main thread indexes.
   * @default true
   */
  multithreading?: boolean;
  /** Largest block value written by the indexer (a larger single frame gets its own block). @default 32 KiB */
  blockBytes?: number;
  /**
   * Width of a time bucket in ms, fixed when the store is created (stored in it; later values are ignored).
   * @default 30000
   */
  bucketMs?: number;
  /** Entries fetched per `nextv` by range readers: bounds their memory to about this × blockBytes. @default 32 */
  readAheadBlocks?: number;
}

const STORE_DEFAULTS = {
  multithreading: true,
  blockBytes: 32 * 1024,
  bucketMs: 30_000,
  readAheadBlocks: 32,
};

/** {@link StoreOptions} with every default applied. */
export type ResolvedStoreOptions = Required<StoreOptions>;

/** Applies defaults and validates; throws {@link StorageOptionError} naming the first bad option. */
export function parseStoreOptions(options: StoreOptions | string): ResolvedStoreOptions {
  const given = typeof options === "string" ? { dir: options } : options;
  const o = { ...STORE_DEFAULTS, ...stripUndefined(given) } as ResolvedStoreOptions;
  if (typeof o.dir !== "string" || o.dir === "")
    throw new StorageOptionError("dir", o.dir, "a directory path");
  if (typeof o.multithreading !== "boolean") {
    throw new StorageOptionError("multithreading", o.multithreading, "a boolean");
  }
  checkInt("blockBytes", o.blockBytes, 256, 16 * 1024 * 1024, StorageOptionError);
  checkInt("bucketMs", o.bucketMs, 1, 366 * 86_400_000, StorageOptionError);
  checkInt("readAheadBlocks", o.readAheadBlocks, 1, 4096, StorageOptionError);
  return o;
}
