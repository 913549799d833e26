/**
 * Small file systems for disk-fault tests, when this process may mount them (root on Linux); tests skip
 * without: a tmpfs to fill (a full disk), and an ext4 image on a loop device to shut down (every later
 * operation on it fails with EIO, as on a dying disk: a failed write, a failed fdatasync).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  path: string;
  remove(): void;
}

/** An ext4 file system that can be made to fail. */
export interface FailingDisk extends Tmpfs {
  /** Shuts the file system down (EXT4_IOC_SHUTDOWN, no log flush): from now on every call on it fails with EIO. */
  shutDown(): void;
}

/** Mounts a tmpfs of `bytes` on a fresh temp dir, or returns why it cannot. */
export function mountTmpfs(bytes: number): Tmpfs | string {
  const path = mkdtempSync(join(tmpdir(), "tickring-tmpfs-"));
  const failed = mountOn(path, ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", path]);
  if (failed !== undefined) return failed;
  return { path, remove: () => unmount(path) };
}

/** Mounts an ext4 image of `bytes` (a sparse file in the temp dir) on a fresh temp dir, or returns why it cannot. */
export function mountFailingDisk(bytes: number): FailingDisk | string {
  const path = mkdtempSync(join(tmpdir(), "tickring-ext4-"));
  const image = `${path}.img`;
  try {
    execFileSync("truncate", ["-s", String(bytes), image], { stdio: "pipe" });
    execFileSync("mkfs.ext4", ["-q", "-F", image], { stdio: "pipe" });
  } catch (err) {
    rmSync(image, { force: true });
    rmSync(path, { recursive: true, force: true });
    return `no ext4 image: ${(err as Error).message.split("\n")[0]}`;
  }
  const failed = mountOn(path, ["-o", "loop", image, path]);
  if (failed !== undefined) {
    rmSync(image, { force: true });
    return failed;
  }
  return {
    path,
    shutDown: () => {
      // EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32), flag EXT4_GOING_FLAGS_NOLOGFLUSH (2); Node has no ioctl.
      const py =
        "import fcntl, os, struct, sys\n" +
        "fd = os.open(sys.argv[1], os.O_RDONLY)\n" +
        "fcntl.ioctl(fd, 0x8004587D, struct.pack('I', 2))\n";
      execFileSync("python3", ["-c", py, path], { stdio: "pipe" });
    },
    remove: () => {
      unmount(path);
      rmSync(image, { force: true });
    },
  };
}

/** Runs `mount args` onto the fresh dir `path`; why it failed (the dir removed), or undefined. */
function mountOn(path: string, args: string[]): string | undefined {
  if (process.platform !== "linux" || process.getuid?.() !== 0) {
    rmSync(path, { recursive: true, force: true });
    return "needs root on Linux to mount a file system";
  }
  try {
    execFileSync("mount", args, { stdio: "pipe" });
    return undefined;
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    return `mount failed: ${(err as Error).message.split("\n")[0]}`;
  }
}

function unmount(path: string): void {
  execFileSync("umount", ["-l", path], { stdio: "pipe" });
  rmSync(path, { recursive: true, force: true });
}
