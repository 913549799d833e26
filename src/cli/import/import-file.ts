/**
 * Imports one CSV file, in two passes over it:
 *
 * 1. check: every row is read and checked by the ingest rules; bad rows are reported with their line, and
 *    past `--max-errors` of them the import stops before writing anything — never half a file;
 * 2. write: the good rows go to the target in batches (offline: appended and made durable; online: sent and
 *    acked), the ledger advancing after each, so an interrupted import resumes where it stopped and a
 *    finished one is not imported again.
 *
 * Rows are counted from the first after the header, blank ones included: the ledger's position is a row,
 * the same in both passes and in every run.
 */
import { resolve } from "node:path";
import { TickringError } from "../../errors.js";
import type { Tick } from "../../frame/codec.js";
import { csvBlocks, describeFile } from "./csv-file.js";
import type { ImportLedger, LedgerEntry } from "./ledger.js";
import { type RowOptions, RowTicks } from "./row-ticks.js";
import type { IngestTarget, WalTarget } from "./targets.js";

/** Ticks per durable append, offline (a ledger update each). */
const OFFLINE_BATCH = 65_536;
/** Ticks per ingest message, online (about 100 bytes each: well under the default 1 MiB message limit). */
const ONLINE_BATCH = 5000;

/** How a file is imported. */
export interface ImportOptions {
  rows: RowOptions;
  /** Bad rows tolerated (reported and skipped); one more stops the import before it writes. */
  maxErrors: number;
  /** Told each bad row's message, up to `maxErrors + 1` of them. */
  onBadRow: (message: string) => void;
  /** Told progress: the phase, done and total (bytes while checking, ticks while writing). */
  onProgress: (phase: "check" | "write", done: number, total: number) => void;
  /** Ticks per append (offline) or message (online). @default 65536 offline, 5000 online */
  batchTicks?: number;
}

/** What importing a file did. */
export interface ImportReport {
  file: string;
  sha256: string;
  /** Ticks the file holds (good rows). */
  ticks: number;
  /** Bad rows skipped. */
  bad: number;
  /** Ticks written by this run (0 when the ledger says the file was imported before). */
  written: number;
  /** True when an earlier run had imported the whole file. */
  alreadyImported: boolean;
  /** Seqs of the ticks written, offline (online: the acked seq of the last message). */
  lastSeq: number | undefined;
  /** Header columns that were ignored. */
  ignoredColumns: string[];
}

/** The result of the check pass. */
interface Checked {
  sha256: string;
  ticks: number;
  bad: number;
  ignoredColumns: string[];
}

/** Reads every row of `path`; throws BAD_TICK when more than `maxErrors` are bad. */
async function check(path: string, o: ImportOptions): Promise<Checked> {
  const rt = new RowTicks(o.rows);
  const { bytes } = describeFile(path);
  const hash: { digest?: string } = {};
  let first = true;
  let ticks = 0;
  let bad = 0;
  for await (const block of csvBlocks(path, hash)) {
    for (let i = 0; i < block.rows.length; i++) {
      const cells = block.rows[i];
      if (first) {
        first = false;
        if (rt.header(cells)) continue;
      }
      if (blank(cells)) continue;
      try {
        rt.json(cells, `${path}:${block.firstLine + i}`);
        ticks++;
      } catch (err) {
        if (!(err instanceof TickringError) || err.code !== "BAD_TICK") throw err;
        bad++;
        o.onBadRow(err.message);
        if (bad > o.maxErrors) {
          throw new TickringError(
            "BAD_TICK",
            `${path}: more than ${o.maxErrors} bad rows (--max-errors): nothing of it was imported`,
          );
        }
      }
    }
    o.onProgress("check", block.bytesRead, bytes);
  }
  return { sha256: hash.digest!, ticks, bad, ignoredColumns: rt.ignoredColumns };
}

function blank(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0].trim() === "";
}

/** Where a run resumes: data rows to skip, then good ticks to skip (an offline append that landed). */
interface Resume {
  row: number;
  ticks: number;
}

/**
 * The good ticks of `path` after `resume`, in batches of `size`: `emit(ticks, endRow)` gets each batch and
 * the data row after its last tick, and is awaited.
 */
async function batches<T>(
  path: string,
  o: ImportOptions,
  resume: Resume,
  size: number,
  read: (rt: RowTicks, cells: string[], where: string) => T,
  emit: (batch: T[], endRow: number) => Promise<void>,
): Promise<void> {
  const rt = new RowTicks(o.rows);
  let first = true;
  let row = 0;
  let skipTicks = resume.ticks;
  let batch: T[] = [];
  for await (const block of csvBlocks(path)) {
    for (let i = 0; i < block.rows.length; i++) {
      const cells = block.rows[i];
      if (first) {
        first = false;
        if (rt.header(cells)) continue;
      }
      if (row++ < resume.row || blank(cells)) continue;
      let tick: T;
      try {
        tick = read(rt, cells, `${path}:${block.firstLine + i}`);
      } catch (err) {
        if (err instanceof TickringError && err.code === "BAD_TICK") continue; // reported by the check
        throw err;
      }
      if (skipTicks > 0) {
        skipTicks--;
        continue;
      }
      batch.push(tick);
      if (batch.length >= size) {
        await emit(batch, row);
        batch = [];
      }
    }
  }
  if (batch.length > 0) await emit(batch, row);
}

/** Imports `path` into a data directory; see the module doc. */
export async function importOffline(
  path: string,
  target: WalTarget,
  ledger: ImportLedger,
  o: ImportOptions,
): Promise<ImportReport> {
  const checked = await check(path, o);
  const entry = entryOf(ledger, `data:${resolve(target.dataDir.path)}`, path, checked);
  if (entry.done) return reportOf(path, checked, true, 0, undefined);
  const resume: Resume = { row: entry.rows, ticks: 0 };
  if (entry.pending !== undefined) {
    // The last run stopped in an append: what of it reached the WAL is the WAL's last seq past its start.
    const landed = Math.max(0, target.lastSeq - entry.pending.firstSeq + 1);
    resume.row = entry.pending.row;
    resume.ticks = entry.pending.skip + landed;
    entry.ticks += landed;
  }
  let written = 0;
  let skip = resume.ticks;
  let at = resume.row;
  await batches<Tick>(
    path,
    o,
    resume,
    o.batchTicks ?? OFFLINE_BATCH,
    (rt, cells, where) => rt.toTick(cells, where),
    async (ticks, endRow) => {
      // Said before the append, so that a crash in it leaves enough to tell how much of it landed.
      ledger.put({ ...entry, pending: { row: at, skip, firstSeq: target.lastSeq + 1 } });
      target.append(ticks);
      await target.commit();
      entry.rows = at = endRow;
      entry.ticks += ticks.length;
      entry.pending = undefined;
      skip = 0;
      ledger.put(entry);
      written += ticks.length;
      o.onProgress("write", entry.ticks, checked.ticks);
    },
  );
  entry.done = true;
  entry.pending = undefined;
  ledger.put(entry);
  return reportOf(path, checked, false, written, target.lastSeq);
}

/** Ledger updates online, at most this often (and once at the end). */
const ONLINE_LEDGER_MS = 200;

/**
 * Imports `path` into a running daemon at `url`. The ledger advances with the acks: a re-run resumes after
 * the last message acked. Messages in flight when a run was interrupted (at most a window of them) may have
 * landed unacked and are sent again; for exactly-once, import offline.
 */
export async function importOnline(
  path: string,
  target: IngestTarget,
  url: string,
  ledger: ImportLedger,
  o: ImportOptions,
): Promise<ImportReport> {
  const checked = await check(path, o);
  const entry = entryOf(ledger, `url:${url}`, path, checked);
  if (entry.done) return reportOf(path, checked, true, 0, undefined);
  let written = 0;
  let lastSeq: number | undefined;
  let savedAt = 0;
  await batches<Record<string, unknown>>(
    path,
    o,
    { row: entry.rows, ticks: 0 },
    o.batchTicks ?? ONLINE_BATCH,
    (rt, cells, where) => rt.json(cells, where),
    (ticks, endRow) =>
      target.send(ticks, (seq) => {
        entry.rows = endRow;
        entry.ticks += ticks.length;
        written += ticks.length;
        lastSeq = seq;
        o.onProgress("write", entry.ticks, checked.ticks);
        if (performance.now() - savedAt > ONLINE_LEDGER_MS) {
          savedAt = performance.now();
          ledger.put(entry);
        }
      }),
  );
  await target.drain();
  entry.done = true;
  ledger.put(entry);
  return reportOf(path, checked, false, written, lastSeq);
}

/** The ledger's entry of this file and target, or a new one. */
function entryOf(ledger: ImportLedger, target: string, path: string, checked: Checked): LedgerEntry {
  return (
    ledger.get(target, checked.sha256) ?? {
      target,
      sha256: checked.sha256,
      file: path,
      rows: 0,
      ticks: 0,
      done: false,
    }
  );
}

function reportOf(
  file: string,
  checked: Checked,
  alreadyImported: boolean,
  written: number,
  lastSeq: number | undefined,
): ImportReport {
  return {
    file,
    sha256: checked.sha256,
    ticks: checked.ticks,
    bad: checked.bad,
    written,
    alreadyImported,
    lastSeq,
    ignoredColumns: checked.ignoredColumns,
  };
}
