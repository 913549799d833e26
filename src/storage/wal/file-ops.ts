/**
 * The file-system calls the WAL's writing side makes (segment writer, fsync scheduler), gathered in one
 * object: node:fs by default, or a test's through {@link WalOptions.files} — fault injection at the file
 * seam (a `writeSync` that writes part of a group and then fails with ENOSPC), never a mock of the WAL.
 */
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  unlinkSync,
  writeSync,
} from "node:fs";

/** The calls, with the signatures the WAL uses. */
export interface WalFileOps {
  openSync(path: string, flags: "r" | "r+" | "w"): number;
  closeSync(fd: number): void;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  ftruncateSync(fd: number, length: number): void;
  fdatasyncSync(fd: number): void;
  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void;
  fsyncSync(fd: number): void;
  unlinkSync(path: string): void;
}

/** node:fs itself. */
export const NODE_FILE_OPS: WalFileOps = {
  openSync: (path, flags) => openSync(path, flags),
  closeSync,
  writeSync: (fd, buffer, offset, length, position) => writeSync(fd, buffer, offset, length, position),
  ftruncateSync: (fd, length) => ftruncateSync(fd, length),
  fdatasyncSync,
  fdatasync,
  fsyncSync,
  unlinkSync,
};

/** node:fs with the calls a test overrides. */
export function walFileOps(overrides: Partial<WalFileOps> | undefined): WalFileOps {
  return overrides === undefined ? NODE_FILE_OPS : { ...NODE_FILE_OPS, ...overrides };
}
