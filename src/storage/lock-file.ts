/**
 * A lock file holding the pid of the process that holds it: what keeps two daemons (or a daemon and an
 * offline `snapshot restore`) off one data directory. Node has no `flock`, so the file's existence is the lock
 * and its pid tells who holds it — and whether the holder is still alive.
 *
 * Taking it: the pid is written to a private temp file first, then hard-linked to the lock's name. `link`
 * fails when the name exists, so of several takers exactly one wins, and the lock never exists without its
 * pid in it (a reader never sees a half-written lock).
 *
 * A stale lock (its pid is dead — the holder was killed with -9 — or its content is garbage) is taken over:
 * it is renamed aside and checked to be the file that was judged stale before it is deleted; if a live
 * taker's lock was moved instead (it took the lock over in between), it is linked back. A lock holding our own
 * pid that this process does not hold is stale too: a restarted container's daemon often gets the same pid.
 * A pid reused by an unrelated live process keeps the lock held: the error names that pid, and the operator
 * removes the file (docs/operations.md).
 */
import { linkSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { DataLockedError, DataDirError } from "./errors.js";
import { unlinkQuietly } from "./make-dir.js";

/** A lock this process holds. */
export interface HeldLock {
  /** The lock file (absolute). */
  readonly file: string;
  /** Gives the lock up: deletes the file if it still names this process. Idempotent. */
  release(): void;
}

/** Lock files this process holds, so a second taker in this process is refused and a stale own pid is not. */
const held = new Set<string>();

/** Rounds of take-or-break before giving up: only reached when other takers keep winning. */
const ATTEMPTS = 8;

/** Takes the lock `file` guarding `dir`; throws {@link DataLockedError} naming the holder's pid. */
export function acquireLock(file: string, dir: string): HeldLock {
  const path = resolve(file);
  let holder: number | null = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    // A live holder is named before anything is written: on a full disk the taker's write would fail, and
    // its caller must learn that the directory is held, not that the disk is full.
    const content = readLock(path);
    if (content !== undefined) {
      holder = pidIn(content);
      if (holder !== null && isAlive(holder, path)) throw new DataLockedError(dir, holder);
      breakStale(path, content);
      continue;
    }
    if (tryCreate(path, dir)) {
      held.add(path);
      return { file: path, release: () => release(path) };
    }
  }
  throw new DataLockedError(dir, holder);
}

/** Creates the lock with our pid in it; false when it exists. */
function tryCreate(path: string, dir: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, `${process.pid}\n`, { flag: "wx" });
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new DataDirError(dir, path, `${(err as NodeJS.ErrnoException).code ?? "error"} taking the lock`, {
      cause: err,
    });
  } finally {
    unlinkQuietly(tmp);
  }
}

/** Deletes the stale lock whose content is `stale`, unless someone replaced it since (then it stays). */
function breakStale(path: string, stale: string): void {
  const aside = `${path}.stale-${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // another taker broke it first
    throw err;
  }
  if (readLock(aside) !== stale) {
    // A taker's fresh lock, not the stale one: put it back (fails only if yet another taker got in between).
    try {
      linkSync(aside, path);
    } catch {
      // That third taker holds the lock now; the one we moved lost it. Three takers in microseconds: accepted.
    }
  }
  unlinkQuietly(aside);
}

function release(path: string): void {
  if (!held.delete(path)) return;
  const content = readLock(path);
  if (content !== undefined && pidIn(content) === process.pid) unlinkQuietly(path);
}

/** The lock's content, or undefined when it does not exist. */
function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** The pid a lock holds, or null for garbage (a lock is never half-written, so garbage is damage: stale). */
function pidIn(content: string): number | null {
  const m = /^([1-9]\d{0,9})\n$/.exec(content);
  return m === null ? null : Number(m[1]);
}

/** True when `pid` runs: signal 0 checks without sending (EPERM: it runs, as another user). */
function isAlive(pid: number, path: string): boolean {
  if (pid === process.pid) return held.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
