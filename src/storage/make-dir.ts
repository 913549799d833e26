/**
 * Directories: creating one and its missing parents, fsyncing one, and removing an entry that may be gone. Creation fails fast: Node's own `mkdir(…, { recursive: true })` spins
 * forever where `mkdir` answers ENOENT although the parent exists (`/proc/x`: 94 % CPU, never returns — the
 * same in classic-level's open, which calls it); here each missing level is created once, from the nearest
 * existing ancestor down, and the first refusal is an error naming the path and the reason.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DataDirError } from "./errors.js";

/** Creates `dir` (and missing parents) unless it exists; throws {@link DataDirError} (`ERR_DATA_DIR`). */
export function makeDir(dir: string): void {
  const missing: string[] = [];
  let path = resolve(dir);
  for (;;) {
    const kind = kindOf(dir, path);
    if (kind === "dir") break;
    if (kind === "other") throw new DataDirError(dir, path, "ENOTDIR (not a directory)");
    missing.push(path);
    const parent = dirname(path);
    if (parent === path) break;
    path = parent;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      // Another process may have created it meanwhile: that is success.
      if (code === "EEXIST" && kindOf(dir, missing[i]) === "dir") continue;
      const why = code === "ENOENT" ? "ENOENT (the file system refuses directories there)" : code;
      throw new DataDirError(dir, missing[i], why, { cause: err });
    }
  }
}

function kindOf(dir: string, path: string): "dir" | "other" | "absent" {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st === undefined ? "absent" : st.isDirectory() ? "dir" : "other";
  } catch (err) {
    throw new DataDirError(dir, path, (err as NodeJS.ErrnoException).code ?? "error", { cause: err });
  }
}

/** fsyncs the directory `dir`, so entries just created, renamed or removed in it survive a power loss. */
export function syncDirSync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes the file `path`; one already gone is no error. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
