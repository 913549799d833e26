/**
 * What `tickring import` has imported, so that importing a file again adds nothing twice: one entry per
 * target (a data directory, or a daemon's URL) and file, keyed by the SHA-256 of the file's bytes — the
 * same file under another name is the same import, an edited file a new one.
 *
 * An entry says how much is done: online, the data rows acked; offline, the good ticks appended. An offline
 * import also writes, before each append, the append it is about to make (its first tick and that tick's
 * seq): after a crash, the WAL's last seq tells how much of it landed, so a re-run resumes exactly after it.
 *
 * The file is JSON, replaced whole (written beside, fsynced, renamed over), so a crash leaves the old or the
 * new version, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { TickringError } from "../../errors.js";

/** One file's import into one target. */
export interface LedgerEntry {
  target: string;
  sha256: string;
  /** The file's path when it was imported (for people; the key is the hash). */
  file: string;
  /** Online: data rows (after the header) done — acked, or skipped as bad. */
  rows: number;
  /** Ticks imported: offline, the file's first good ticks. */
  ticks: number;
  done: boolean;
  /** Offline, an append in progress: its first tick is good tick `tick` of the file and gets seq `firstSeq`. */
  pending?: { tick: number; firstSeq: number };
}

interface LedgerFile {
  version: 1;
  imports: LedgerEntry[];
}

export class ImportLedger {
  private readonly entries: LedgerEntry[];

  constructor(readonly path: string) {
    let text: string | undefined;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (text === undefined) {
      this.entries = [];
      return;
    }
    try {
      const parsed = JSON.parse(text) as LedgerFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.imports)) throw new Error("not a version-1 ledger");
      this.entries = parsed.imports;
    } catch (err) {
      throw new TickringError(
        "BAD_REQUEST",
        `the import ledger ${path} is unreadable: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /** The entry of `sha256` into `target`, if the file was (partly) imported there. */
  get(target: string, sha256: string): LedgerEntry | undefined {
    return this.entries.find((e) => e.target === target && e.sha256 === sha256);
  }

  /** Records `entry` (replacing the one of its target and hash) and makes it durable before returning. */
  put(entry: LedgerEntry): void {
    const i = this.entries.findIndex((e) => e.target === entry.target && e.sha256 === entry.sha256);
    if (i >= 0) this.entries[i] = { ...entry };
    else this.entries.push({ ...entry });
    const file: LedgerFile = { version: 1, imports: this.entries };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, JSON.stringify(file, null, 1) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
