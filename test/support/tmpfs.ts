/**
 * A small tmpfs for disk-full tests, when this process may mount one (root on Linux); tests skip without it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  path: string;
  remove(): void;
}

/** Mounts a tmpfs of `bytes` on a fresh temp dir, or returns why it cannot. */
export function mountTmpfs(bytes: number): Tmpfs | string {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return "needs root on Linux to mount a tmpfs";
  const path = mkdtempSync(join(tmpdir(), "tickring-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", path], { stdio: "pipe" });
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    return `mount failed: ${(err as Error).message.split("\n")[0]}`;
  }
  return {
    path,
    remove: () => {
      execFileSync("umount", ["-l", path], { stdio: "pipe" });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
