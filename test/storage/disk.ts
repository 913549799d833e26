/** Filling a small file system to the last byte, for disk-full tests on a tmpfs. */
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Writes `<dir>/filler` until the file system refuses another byte; returns its path (delete it to free). */
export function fillDisk(dir: string, name = "filler"): string {
  const path = join(dir, name);
  const fd = openSync(path, "a");
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
