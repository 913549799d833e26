/**
 * Restores a snapshot into a data directory. Files are copied (never linked: the daemon will append to the
 * last WAL segment and LevelDB will compact) into `<data>.restore-<pid>.partial` beside the target, each
 * checked against the manifest's size and CRC32C as it is copied, the store opened there to check its
 * checkpoint, everything fsynced — and only then renamed into place. So `<data>` is at every moment either
 * what it was, absent (between the two renames of a forced restore, if the machine dies there), or the full
 * restored copy: never half-restored. A forced restore keeps the old directory's `snapshots/`.
 */
import { existsSync, readdirSync } from "node:fs";
import { rename, rm, rmdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  type DataDir,
  LOCK_FILE,
  makeDir,
  openDataDir,
  SNAPSHOTS_DIR,
  STORE_DIR,
  WAL_DIR,
} from "../storage/index.js";
import { RecoveryError, SnapshotFileError } from "./errors.js";
import { copyFile, syncDir } from "./file-copy.js";
import { ByteProgress, type OnProgress } from "./progress.js";
import { crcHex, type Manifest, PARTIAL_SUFFIX } from "./snapshot-layout.js";
import { checkWalEnd, readManifest } from "./snapshot-verify.js";
import { readCheckpoint } from "./store-copy.js";

/** Options of {@link restoreSnapshot}. */
export interface RestoreOptions {
  /** Replace a non-empty `data` (refused otherwise). @default false */
  force?: boolean;
  onProgress?: OnProgress;
}

/** Restores the snapshot at `path` into `data`; returns its manifest. */
export async function restoreSnapshot(
  path: string,
  data: string,
  options: RestoreOptions = {},
): Promise<Manifest> {
  const manifest = await readManifest(path);
  const target = resolve(data);
  const existed = existsSync(target);
  // The lock keeps a daemon from starting on the old data mid-swap, and refuses the restore while one runs.
  const dir = await openDataDir(target);
  const occupied = readdirSync(target).some((name) => name !== LOCK_FILE);
  const partial = `${target}.restore-${process.pid}${PARTIAL_SUFFIX}`;
  try {
    if (occupied && options.force !== true) {
      throw new RecoveryError(
        "ERR_DATA_NOT_EMPTY",
        target,
        `${target} is not empty: pass --force to replace it`,
      );
    }
    await rm(partial, { recursive: true, force: true });
    makeDir(join(partial, WAL_DIR));
    makeDir(join(partial, STORE_DIR));
    const progress = new ByteProgress(
      manifest.files.reduce((n, f) => n + f.bytes, 0),
      options.onProgress,
    );
    for (const f of manifest.files) {
      const from = join(path, f.path);
      if (!existsSync(from))
        throw new SnapshotFileError("ERR_SNAPSHOT_MISSING_FILE", from, "the file", "none");
      const sum = await copyFile(from, join(partial, f.path), progress.add);
      if (sum.bytes !== f.bytes || crcHex(sum.crc) !== f.crc32c) {
        throw new SnapshotFileError(
          "ERR_SNAPSHOT_CHECKSUM",
          from,
          `${f.bytes} bytes crc32c ${f.crc32c}`,
          `${sum.bytes} bytes crc32c ${crcHex(sum.crc)}`,
        );
      }
    }
    checkWalEnd(join(partial, WAL_DIR), manifest.seq);
    const checkpoint = await readCheckpoint(join(partial, STORE_DIR));
    if (checkpoint !== manifest.storeCheckpoint) {
      throw new RecoveryError(
        "ERR_SNAPSHOT_STORE",
        path,
        `the restored store has checkpoint=${checkpoint}; the manifest says ${manifest.storeCheckpoint}`,
      );
    }
    progress.finish();
    await syncDir(join(partial, WAL_DIR));
    await syncDir(join(partial, STORE_DIR));
    await syncDir(partial);
    await swapIn(partial, target, occupied, dir);
    return manifest;
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    dir.release();
    // A target this call created (for its lock) goes again.
    if (!existed) await rmdir(target).catch(() => undefined);
    throw err;
  } finally {
    dir.release();
  }
}

/**
 * Renames `partial` to `target`. An occupied `target` is renamed aside first (its lock file goes with it:
 * the restored directory arrives free) and its snapshots/ moved into the restored one; an empty one (only our
 * lock in it) is removed.
 */
async function swapIn(partial: string, target: string, occupied: boolean, dir: DataDir): Promise<void> {
  if (occupied) {
    const old = `${target}.old-${process.pid}`;
    await rename(target, old);
    if (existsSync(join(old, SNAPSHOTS_DIR)))
      await rename(join(old, SNAPSHOTS_DIR), join(partial, SNAPSHOTS_DIR));
    await rename(partial, target);
    await syncDir(dirname(target));
    await rm(old, { recursive: true, force: true });
    return;
  }
  dir.release();
  await rmdir(target);
  await rename(partial, target);
  await syncDir(dirname(target));
}
