/**
 * Recovery and snapshot errors. Each has a stable `code` (what the CLI prints and `POST /v1/admin/snapshot`
 * answers), the path it concerns, and the underlying failure as `cause`. They are {@link TickringError}s.
 */
import { TickringError } from "../errors.js";

/** Stable codes of recovery and snapshot errors. */
export type RecoveryErrorCode =
  /** The snapshot's target path already exists. */
  | "ERR_SNAPSHOT_EXISTS"
  /** manifest.json is missing, unreadable, or not a snapshot manifest this build reads. */
  | "ERR_SNAPSHOT_MANIFEST"
  /** A file listed in the manifest is absent. */
  | "ERR_SNAPSHOT_MISSING_FILE"
  /** A file's size or CRC32C differs from the manifest. */
  | "ERR_SNAPSHOT_CHECKSUM"
  /** The snapshot's store does not open, or its checkpoint differs from the manifest. */
  | "ERR_SNAPSHOT_STORE"
  /** The snapshot or its store is missing or does not open. */
  | "ERR_DATA_MISSING"
  /** Restore target is not empty and `--force` was not given. */
  | "ERR_DATA_NOT_EMPTY";

/** Base class of recovery errors: a {@link TickringError} with the path it concerns. */
export class RecoveryError extends TickringError {
  override name = "RecoveryError";
  declare readonly code: RecoveryErrorCode;
  /** The file or directory concerned. */
  readonly path: string;

  constructor(code: RecoveryErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
    this.path = path;
  }
}

/** One file of a snapshot failed verification. */
export class SnapshotFileError extends RecoveryError {
  override name = "SnapshotFileError";
  constructor(
    code: "ERR_SNAPSHOT_MISSING_FILE" | "ERR_SNAPSHOT_CHECKSUM",
    path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(code, path, `${path}: expected ${expected}, found ${actual}`);
  }
}
