/**
 * Storage errors. Each has a stable `code` (the same string the WebSocket `error` messages carry when a storage
 * failure reaches a client), typed context fields, and the underlying failure as `cause`. They are
 * {@link TickringError}s: one error model, one serializer (`errorBody` in src/errors.ts).
 */
import { TickringError } from "../errors.js";

/** Stable codes of storage errors. */
export type StorageErrorCode =
  | "ERR_STORAGE_OPTION"
  | "ERR_WAL_SEQ"
  | "ERR_WAL_CORRUPT"
  | "ERR_WAL_GAP"
  | "ERR_WAL_SEQ_RETIRED"
  | "ERR_WAL_CLOSED"
  | "ERR_WAL_FRAME"
  | "ERR_WAL_IO"
  | "ERR_STORE_CLOSED"
  | "ERR_STORE_IO"
  | "ERR_DATA_LOCKED"
  | "ERR_DATA_DIR"
  | "ERR_DATA_MISSING"
  | "DISK_FULL";

/** Base class of storage errors: a {@link TickringError} whose code is a {@link StorageErrorCode}. */
export class StorageError extends TickringError {
  override name = "StorageError";
  declare readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An option failed validation; the message names the option and the bad value. */
export class StorageOptionError extends StorageError {
  override name = "StorageOptionError";
  constructor(
    readonly option: string,
    readonly value: unknown,
    expectation: string,
  ) {
    super("ERR_STORAGE_OPTION", `${option} must be ${expectation}: ${option}=${String(value)}`);
  }
}

/** `append` was given a seq other than `lastSeq + 1`. */
export class WalSeqError extends StorageError {
  override name = "WalSeqError";
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super("ERR_WAL_SEQ", `WAL append out of order: expected seq=${expected}, got seq=${actual}`);
  }
}

/** A frame handed to `append` is not a size-prefixed frame of a valid length. */
export class WalFrameError extends StorageError {
  override name = "WalFrameError";
  constructor(
    readonly length: number,
    reason: string,
  ) {
    super("ERR_WAL_FRAME", `WAL append rejected a frame of length=${length}: ${reason}`);
  }
}

/** A record failed its checks somewhere it cannot be cut (a sealed segment, or while reading). */
export class WalCorruptError extends StorageError {
  override name = "WalCorruptError";
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super("ERR_WAL_CORRUPT", `WAL corrupt in ${file} at offset=${offset}: ${reason}`);
  }
}

/** A WAL file operation failed; the system error is the `cause` (its code, e.g. `ENOSPC`, is in the message). */
export class WalIoError extends StorageError {
  override name = "WalIoError";
  constructor(
    /** `undo`: taking back a write that failed (the WAL has then failed for good). */
    readonly op: "create" | "write" | "fdatasync" | "undo",
    /** The file, when the operation names one (an fdatasync in flight knows only its fd). */
    readonly file: string | null,
    cause: NodeJS.ErrnoException,
  ) {
    const what = file === null ? `WAL ${op}` : `WAL ${op} of ${file}`;
    super("ERR_WAL_IO", `${what} failed: ${cause.code ?? cause.message}`, { cause });
  }
}

/**
 * A seq range has no records: segments are missing between two that exist, or a hole was recorded there
 * (`hole`: its record; the seqs were lost for good and `tickring wal repair` gave them up).
 */
export class WalGapError extends StorageError {
  override name = "WalGapError";
  constructor(
    readonly dir: string,
    readonly missingFrom: number,
    readonly nextFirstSeq: number,
    readonly hole?: string,
  ) {
    super(
      "ERR_WAL_GAP",
      hole === undefined
        ? `WAL in ${dir} has no segment for seq=${missingFrom} (next segment starts at ${nextFirstSeq})`
        : `WAL in ${dir} lost seqs ${missingFrom}..${nextFirstSeq - 1} for good (recorded in ${hole})`,
    );
  }
}

/** The requested seq is older than the oldest WAL segment (retention removed it): read it from the store. */
export class WalSeqRetiredError extends StorageError {
  override name = "WalSeqRetiredError";
  constructor(
    readonly seq: number,
    readonly oldestSeq: number,
  ) {
    super("ERR_WAL_SEQ_RETIRED", `WAL no longer holds seq=${seq}; its oldest seq is ${oldestSeq}`);
  }
}

/** The WAL or store was used after `close()`. */
export class ClosedError extends StorageError {
  override name = "ClosedError";
  constructor(code: "ERR_WAL_CLOSED" | "ERR_STORE_CLOSED", what: string) {
    super(code, `${what} is closed`);
  }
}

/**
 * Another process holds the data directory (or the store in it). The message starts with the code and names
 * the holder's pid when its lock file gives it, so the CLI's one line says who to stop.
 */
export class DataLockedError extends StorageError {
  override name = "DataLockedError";
  constructor(
    readonly dir: string,
    /** The holder's pid from the lock file; null when only LevelDB's LOCK told (it names no pid). */
    readonly pid: number | null,
    options?: { cause?: unknown },
  ) {
    super(
      "ERR_DATA_LOCKED",
      pid === null
        ? `ERR_DATA_LOCKED: ${dir} is held by another process (LevelDB's LOCK)`
        : `ERR_DATA_LOCKED: ${dir} is held by process ${pid}: stop it first`,
      options,
    );
  }
}

/** A directory for data (the data directory, its wal/ or store/, a snapshot's) cannot be created. */
export class DataDirError extends StorageError {
  override name = "DataDirError";
  constructor(
    /** The directory asked for. */
    readonly dir: string,
    /** The path whose creation failed (`dir` or one of its missing parents). */
    readonly path: string,
    /** The system error code (`ENOENT`, `EACCES`, `ENOTDIR`, …). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super("ERR_DATA_DIR", `ERR_DATA_DIR: cannot create ${dir}: ${reason} at ${path}`, options);
  }
}

/** A path given as a data directory does not exist, or is not one (it has neither wal/ nor store/). */
export class DataMissingError extends StorageError {
  override name = "DataMissingError";
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super("ERR_DATA_MISSING", `ERR_DATA_MISSING: ${dir} ${reason}`);
  }
}

/**
 * Not enough free space: an operation that checks first (a snapshot) refused before writing anything, or a
 * start found the disk too full to open the store even after deleting the reserve.
 */
export class DiskFullError extends StorageError {
  override name = "DiskFullError";
  constructor(
    /** Where the space is needed. */
    readonly path: string,
    /** About how many bytes the operation needs there (0 when unknown). */
    readonly neededBytes: number,
    /** Bytes free there when it checked. */
    readonly freeBytes: number,
    /** What needs the space, e.g. "a snapshot of /var/lib/tickring". */
    what: string,
    options?: { cause?: unknown },
  ) {
    const need = neededBytes > 0 ? `needs about ${mib(neededBytes)}` : "needs more space";
    super("DISK_FULL", `DISK_FULL: ${what} ${need} in ${path}, which has ${mib(freeBytes)} free`, options);
  }
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
