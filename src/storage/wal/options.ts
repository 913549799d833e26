/**
 * WAL options: one typed interface, defaults in one place ({@link WAL_DEFAULTS}), validated once
 * ({@link parseWalOptions}) with errors naming the bad option and value.
 */

import { checkInt, stripUndefined } from "../../config/checks.js";
import { StorageOptionError } from "../errors.js";
import type { WalFileOps } from "./file-ops.js";
import { MAX_RECORD_LENGTH } from "./record-layout.js";

/**
 * When appended records become durable:
 * - `always`: an fdatasync follows every `write()` (one in flight; the next covers every write since).
 * - `batch`: an fdatasync at most every `batchMs` or every `batchRecords` records, whichever comes first.
 * - `os`: never fsync on the write path; the kernel writes back when it likes. Records are "durable" (for the
 *   ack) once written: they survive a process crash (`kill -9`) but not a power loss or kernel crash.
 */
export type FsyncPolicy = "always" | "batch" | "os";

/** Options of {@link Wal.open}. */
export interface WalOptions {
  /** Directory of the segment files (the daemon passes `<data>/wal`); created when absent. */
  dir: string;
  /** @default "batch" */
  fsync?: FsyncPolicy;
  /** Longest time a written record waits for its fdatasync under `batch`. @default 2 */
  batchMs?: number;
  /** Records written since the last fdatasync that start one at once under `batch`. @default 4096 */
  batchRecords?: number;
  /** A segment is rolled before a record would take it past this size. @default 64 MiB */
  segmentBytes?: number;
  /** One sparse-index entry per this many segment bytes. @default 256 KiB */
  indexIntervalBytes?: number;
  /** Initial size of the pending-group buffer; it doubles when a group does not fit. @default 1 MiB */
  initialBufferBytes?: number;
  /**
   * Verify every record of every sealed segment at open (CRC of everything: about 1 s per GB), not only the
   * last segment and the newest sealed one. Off by default: readers verify CRCs as they go and fail naming file
   * and offset. Turn it on after a power loss under `fsync: "os"`.
   * @default false
   */
  verifySealed?: boolean;
  /** Called after each fdatasync with its duration (ns) and the records it made durable (0 for a roll). */
  onFsync?: (durationNs: number, records: number) => void;
  /**
   * File calls to use instead of node:fs's (tests inject faults here, e.g. a `writeSync` failing with
   * ENOSPC). @default node:fs
   */
  files?: Partial<WalFileOps>;
}

/** Defaults of {@link WalOptions}. */
export const WAL_DEFAULTS = {
  fsync: "batch" as FsyncPolicy,
  batchMs: 2,
  batchRecords: 4096,
  segmentBytes: 64 * 1024 * 1024,
  indexIntervalBytes: 256 * 1024,
  initialBufferBytes: 1024 * 1024,
  verifySealed: false,
};

/** {@link WalOptions} with every default applied. */
export type ResolvedWalOptions = Required<Omit<WalOptions, "onFsync" | "files">> &
  Pick<WalOptions, "onFsync" | "files">;

const MAX_SEGMENT_BYTES = 2 ** 31 - 1;

/** Applies defaults and validates; throws {@link StorageOptionError} naming the first bad option. */
export function parseWalOptions(options: WalOptions): ResolvedWalOptions {
  const o = { ...WAL_DEFAULTS, ...stripUndefined(options) } as ResolvedWalOptions;
  if (typeof o.dir !== "string" || o.dir === "")
    throw new StorageOptionError("dir", o.dir, "a directory path");
  if (o.fsync !== "always" && o.fsync !== "batch" && o.fsync !== "os") {
    throw new StorageOptionError("fsync", o.fsync, 'one of "always", "batch", "os"');
  }
  checkInt("batchMs", o.batchMs, 0, 60_000, StorageOptionError);
  checkInt("batchRecords", o.batchRecords, 1, 2 ** 31, StorageOptionError);
  checkInt("segmentBytes", o.segmentBytes, 4096, MAX_SEGMENT_BYTES, StorageOptionError);
  checkInt("indexIntervalBytes", o.indexIntervalBytes, 512, MAX_SEGMENT_BYTES, StorageOptionError);
  checkInt("initialBufferBytes", o.initialBufferBytes, MAX_RECORD_LENGTH, 2 ** 30, StorageOptionError);
  if (typeof o.verifySealed !== "boolean")
    throw new StorageOptionError("verifySealed", o.verifySealed, "a boolean");
  if (o.onFsync !== undefined && typeof o.onFsync !== "function") {
    throw new StorageOptionError("onFsync", o.onFsync, "a function");
  }
  return o;
}
