/**
 * Free space, and the reserve file that gives a daemon on a full disk room to start.
 *
 * On a full disk LevelDB cannot open (it writes a new MANIFEST and log at every open), so a daemon stopped
 * there could not start again. The reserve is a plain file of real (not sparse) bytes in the data directory,
 * `<data>/reserve` (64 MiB by default), created at a start when there is room: deleting it gives the start
 * that headroom, and it is created again once space returns. Only the process holding the data directory's
 * lock touches it.
 */
import { statfsSync, statSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { unlinkQuietly } from "./make-dir.js";

/** Default size of the reserve file. */
export const RESERVE_BYTES = 64 * 1024 * 1024;

/** Bytes an unprivileged process may still write on the file system holding `path` (statfs `bavail`). */
export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** True when `err` (or an error in its `cause` chain, or LevelDB's message in it) says the disk is full. */
export function isDiskFull(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (typeof e !== "object") return false;
    if (e.code === "ENOSPC" || e.code === "EDQUOT" || e.code === "DISK_FULL") return true;
    // LevelDB reports errno text only: "IO error: …/000003.log: No space left on device".
    if (typeof e.message === "string" && /No space left on device|Disk quota exceeded/.test(e.message))
      return true;
  }
  return false;
}

const CHUNK = Buffer.alloc(1024 * 1024);

/** The reserve file of one data directory; see the module doc. */
export class SpaceReserve {
  constructor(
    /** The reserve file (`<data>/reserve`). */
    readonly file: string,
    /** Its size. */
    readonly bytes = RESERVE_BYTES,
  ) {}

  /** True when the reserve file exists at its full size. */
  get present(): boolean {
    return statSync(this.file, { throwIfNoEntry: false })?.size === this.bytes;
  }

  /**
   * Creates the reserve when it is absent and the disk has room for it twice over (so creating it never
   * fills a disk); returns whether it is present now. Writes real zeros (a sparse file reserves nothing),
   * to a temporary name renamed when complete, so a half-written reserve never counts. Asynchronous (64 MiB
   * of writes would hold a serving main thread for tens of ms). Never throws for lack of space: it returns
   * false and cleans up.
   */
  async ensure(): Promise<boolean> {
    if (this.present) return true;
    if (freeBytes(dirname(this.file)) < 2 * this.bytes) return false;
    const tmp = `${this.file}.partial`;
    try {
      const fh = await open(tmp, "w");
      try {
        for (let done = 0; done < this.bytes;) {
          const { bytesWritten } = await fh.write(CHUNK, 0, Math.min(CHUNK.length, this.bytes - done), done);
          done += bytesWritten;
        }
        // Not fdatasynced: 64 MiB of writeback per start buys nothing. A crash may leave it short (then it is
        // not `present` and is written again), never larger than it says.
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
      return true;
    } catch (err) {
      unlinkQuietly(tmp);
      if (isDiskFull(err)) return false;
      throw err;
    }
  }

  /** Deletes the reserve (and any half-written one); returns the bytes freed, 0 when there was none. */
  release(): number {
    const size = statSync(this.file, { throwIfNoEntry: false })?.size ?? 0;
    unlinkQuietly(this.file);
    unlinkQuietly(`${this.file}.partial`);
    return size;
  }
}
