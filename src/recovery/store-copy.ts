/**
 * The snapshot code's store copies, through storage's one seam to LevelDB ({@link openLevelDb}). LevelDB has
 * no checkpoint API, and a raw copy of an open database is unsafe (MANIFEST and the .log change under it), so
 * a snapshot's store is a logical copy: every entry read from ONE explicit LevelDB snapshot (a single instant:
 * blocks and checkpoint agree) and written with `batch()` into a fresh database. Online, the daemon's store is
 * opened a second time in the same process (it opens with `multithreading: true`, which lets several handles
 * share one LevelDB); offline, the caller holds the data directory's lock and the store is opened exclusively.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TickringError } from "../errors.js";
import { STORE_DIR } from "../storage/index.js";
import { CHECKPOINT_KEY, checkpointOf } from "../storage/store/keys.js";
import { type LevelDb, type LevelSnapshot, openLevelDb, VIEW } from "../storage/store/leveldb.js";
import { RecoveryError } from "./errors.js";
import { copyFile, linkOrCopy, type OnBytes } from "./file-copy.js";

/** Entries per read and per write batch: bounds memory to about this × the largest block (32 KiB). */
const ENTRIES_PER_BATCH = 512;

/** A store opened for copying; {@link StoreCopySource.freeze} fixes the instant the copy reflects. */
export class StoreCopySource {
  private frozen: LevelSnapshot | null = null;

  private constructor(private readonly db: LevelDb) {}

  /**
   * Opens the store in `dir`. `shared`: alongside the daemon's own handle (online). Otherwise exclusively,
   * failing with `ERR_DATA_LOCKED` when another process holds it.
   */
  static async open(dir: string, shared: boolean): Promise<StoreCopySource> {
    try {
      return new StoreCopySource(await openLevelDb(dir, { multithreading: shared, createIfMissing: false }));
    } catch (err) {
      if (err instanceof TickringError && err.code === "ERR_DATA_LOCKED") throw err;
      throw new RecoveryError("ERR_DATA_MISSING", dir, (err as Error).message, { cause: err });
    }
  }

  /** Takes the LevelDB snapshot the copy will read. Synchronous, so the caller can pair it with other state. */
  freeze(): void {
    this.frozen ??= this.db.snapshot();
  }

  /**
   * Writes every entry of the frozen instant into a new database at `toDir`; returns the checkpoint it holds.
   * `onBytes` gets the key and value bytes copied.
   */
  async copyTo(toDir: string, onBytes?: OnBytes): Promise<number> {
    this.freeze();
    const dst = await openLevelDb(toDir, { errorIfExists: true });
    let checkpoint = 0;
    const it = this.db.iterator({ ...VIEW, snapshot: this.frozen!, fillCache: false });
    try {
      for (;;) {
        const entries = await it.nextv(ENTRIES_PER_BATCH);
        if (entries.length === 0) break;
        let bytes = 0;
        const ops = entries.map(([key, value]) => {
          bytes += key.length + value.length;
          if (isCheckpointKey(key)) checkpoint = checkpointOf(value);
          return { type: "put" as const, key, value };
        });
        await dst.batch(ops);
        onBytes?.(bytes);
      }
    } finally {
      await it.close();
      await dst.close();
    }
    return checkpoint;
  }

  /** Releases the snapshot and closes this handle (the daemon's own handle stays open). */
  async close(): Promise<void> {
    await this.frozen?.close();
    this.frozen = null;
    await this.db.close();
  }
}

/** The checkpoint of the store in `dir`, opened exclusively and closed again (0 when it has none). */
export async function readCheckpoint(dir: string): Promise<number> {
  const db = await openLevelDb(dir, { createIfMissing: false });
  try {
    return checkpointOf(await db.get(CHECKPOINT_KEY));
  } finally {
    await db.close();
  }
}

function isCheckpointKey(key: Uint8Array): boolean {
  return key.length === CHECKPOINT_KEY.length && key[0] === CHECKPOINT_KEY[0];
}

/** Creates an empty store in `dir` (checkpoint 0), for a snapshot of a data dir whose store was never made. */
export async function createEmptyStore(dir: string): Promise<number> {
  const db = await openLevelDb(dir, { errorIfExists: true });
  await db.close();
  return 0;
}

/**
 * A copy of the store in `dir` that can be opened without touching the original — opening a LevelDB
 * rewrites its MANIFEST and log — in a scratch directory beside `near` (same file system: tables are
 * hard-linked, LevelDB never rewrites one in place; the rest is copied), else in the OS temp dir. An absent
 * `dir` gives an empty scratch directory (an empty store).
 */
export async function scratchStoreCopy(
  dir: string,
  near: string,
): Promise<{ dir: string; remove(): Promise<void> }> {
  const scratch = await scratchDir(near);
  const to = join(scratch, STORE_DIR);
  try {
    await mkdir(to);
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      if (name === "LOCK") continue;
      if (name.endsWith(".ldb") || name.endsWith(".sst")) await linkOrCopy(join(dir, name), join(to, name));
      else await copyFile(join(dir, name), join(to, name));
    }
  } catch (err) {
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
  return { dir: to, remove: () => rm(scratch, { recursive: true, force: true }) };
}

/** A scratch directory beside `path` (same file system, so tables can be linked), else in the OS tmpdir. */
async function scratchDir(path: string): Promise<string> {
  try {
    return await mkdtemp(`${resolve(path)}.scratch-`);
  } catch {
    return mkdtemp(join(tmpdir(), "tickring-scratch-"));
  }
}
