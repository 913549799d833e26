/**
 * Byte moves of the snapshot code: copy (a prefix of) a file while computing its CRC32C, checksum a file,
 * hard-link with a copy fallback, fsync files and directories. Memory is one {@link CHUNK_BYTES} buffer per
 * call, whatever the file size.
 */
import { constants, read } from "node:fs";
import { link, open } from "node:fs/promises";
import { crc32c } from "@node-rs/crc32";

/** Read/write size: large enough that syscalls cost little beside the copy (4 MiB ≈ 1–2 ms at page-cache speed). */
const CHUNK_BYTES = 4 << 20;

/** Called with the bytes just processed; sums to the total of the operation. */
export type OnBytes = (bytes: number) => void;

/**
 * Copies the first `length` bytes of the open file `fromFd` (or all of `from` when `length` is omitted) to a
 * new file `to` (which must not exist), fsyncs it and returns the copy's size and CRC32C.
 */
export async function copyFile(
  from: string | number,
  to: string,
  onBytes?: OnBytes,
  length = Number.POSITIVE_INFINITY,
): Promise<{ bytes: number; crc: number }> {
  const src = typeof from === "number" ? null : await open(from, "r");
  const fd = typeof from === "number" ? from : src!.fd;
  const dst = await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let crc = 0;
  let pos = 0;
  try {
    while (pos < length) {
      const want = Math.min(buf.length, length - pos);
      const n = await new Promise<number>((resolve, reject) =>
        read(fd, buf, 0, want, pos, (err, got) => (err ? reject(err) : resolve(got))),
      );
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      crc = crc32c(chunk, crc);
      await dst.write(chunk, 0, n, pos);
      pos += n;
      onBytes?.(n);
    }
    await dst.datasync();
  } finally {
    await dst.close();
    await src?.close();
  }
  return { bytes: pos, crc };
}

/** Size and CRC32C of a whole file, read in chunks. */
export async function checksumFile(file: string, onBytes?: OnBytes): Promise<{ bytes: number; crc: number }> {
  const fh = await open(file, "r");
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let crc = 0;
  let pos = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      crc = crc32c(buf.subarray(0, bytesRead), crc);
      pos += bytesRead;
      onBytes?.(bytesRead);
    }
  } finally {
    await fh.close();
  }
  return { bytes: pos, crc };
}

/**
 * Hard-links `from` to `to` (same inode: no bytes move), or copies it when they are on different file systems.
 * Only for files nobody rewrites in place (sealed WAL segments, LevelDB tables).
 */
export async function linkOrCopy(from: string, to: string, onBytes?: OnBytes): Promise<"link" | "copy"> {
  try {
    await link(from, to);
    return "link";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM") throw err;
    await copyFile(from, to, onBytes);
    return "copy";
  }
}

/** fsyncs a directory so the entries just created or renamed in it survive a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
