/** Files damaged on purpose: a small file system filled to the last byte (on a tmpfs), a byte flipped. */
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
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

/** XORs the byte of `file` at `at` with `mask`: damage in place, as bit rot would do. */
export function xorByte(file: string, at: number, mask = 0x10): void {
  const fd = openSync(file, "r+");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] ^= mask;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

/** Offsets of the records of a WAL segment, read by their length headers (independently of the WAL code). */
export function recordOffsets(file: string): number[] {
  const bytes = readFileSync(file);
  const out: number[] = [];
  for (let p = 0; p + 8 <= bytes.length; p += 8 + bytes.readUInt32LE(p)) out.push(p);
  return out;
}
