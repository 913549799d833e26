/**
 * Imports one CSV file: every row is read and checked by the ingest rules first — bad rows reported with
 * their line, and past `--max-errors` of them the file is not imported at all, never half of it — then the
 * good ticks are written in batches, the ledger advancing after each, so an interrupted import resumes where
 * it stopped and a finished one is not imported again.
 *
 * Offline, the check encodes each good tick into its final frame (the seqs and ts_recv it will have are
 * known: the directory is locked) in a spool file beside the WAL, and the write appends the spool to the WAL
 * — the CSV is parsed once. Online, the rows are read again and sent as JSON, as any publisher's.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { TickringError } from "../../errors.js";
import { FrameEncoder, frameLength, type Tick } from "../../frame/codec.js";
import { csvBlocks, describeFile, fileSha256 } from "./csv-file.js";
import type { ImportLedger, LedgerEntry } from "./ledger.js";
import { type RowOptions, RowTicks } from "./row-ticks.js";
import type { IngestTarget, WalTarget } from "./targets.js";

/** Ticks per durable append, offline (a ledger update each). */
const OFFLINE_BATCH = 65_536;
/** Ticks per ingest message, online (about 100 bytes each: well under the default 1 MiB message limit). */
const ONLINE_BATCH = 5000;
/** The spool is written and read this much at a time. */
const SPOOL_CHUNK = 1 << 20;

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
  /** Ticks the file holds (good rows); for a file imported before, what the ledger says was imported. */
  ticks: number;
  /** Bad rows skipped. */
  bad: number;
  /** Ticks written by this run (0 when the ledger says the file was imported before). */
  written: number;
  /** True when an earlier run had imported the whole file. */
  alreadyImported: boolean;
  /** The seq of the last tick written (online: the acked seq of the last message). */
  lastSeq: number | undefined;
  /** Header columns that were ignored. */
  ignoredColumns: string[];
  /** `#gap` lines: where an export said history could not give seqs (nothing to import there). */
  gaps: number;
}

/** The result of the check. */
interface Checked {
  sha256: string;
  ticks: number;
  bad: number;
  ignoredColumns: string[];
  gaps: number;
}

/**
 * Reads every row of `path`, giving each good tick (the `read` of its cells) to `good`; throws BAD_TICK when
 * more than `maxErrors` rows are bad.
 */
async function check<T>(
  path: string,
  o: ImportOptions,
  read: (rt: RowTicks, cells: string[], where: string) => T,
  good: (tick: T) => void,
): Promise<Checked> {
  const rt = new RowTicks(o.rows);
  const { bytes } = describeFile(path);
  const hash: { digest?: string } = {};
  let first = true;
  let ticks = 0;
  let bad = 0;
  let gaps = 0;
  for await (const block of csvBlocks(path, hash)) {
    for (let i = 0; i < block.rows.length; i++) {
      const cells = block.rows[i];
      if (first) {
        first = false;
        if (rt.header(cells)) continue;
      }
      if (blank(cells)) continue;
      if (isGap(cells)) {
        gaps++;
        continue;
      }
      let tick: T;
      try {
        tick = read(rt, cells, `${path}:${block.firstLine + i}`);
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
        continue;
      }
      ticks++;
      good(tick);
    }
    o.onProgress("check", block.bytesRead, bytes);
  }
  return { sha256: hash.digest!, ticks, bad, ignoredColumns: rt.ignoredColumns, gaps };
}

function blank(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0].trim() === "";
}

/** A `#gap,from,to,reason` line of `tickring export` (src/subscriber/history-text.ts). */
function isGap(cells: readonly string[]): boolean {
  return cells[0] === "#gap";
}

/** Imports `path` into a data directory; see the module doc. */
export async function importOffline(
  path: string,
  target: WalTarget,
  ledger: ImportLedger,
  o: ImportOptions,
): Promise<ImportReport> {
  const sha256 = await fileSha256(path);
  const entry = entryOf(ledger, `data:${resolve(target.dataDir.path)}`, path, sha256);
  if (entry.done)
    return {
      ...reportOf(path, { sha256, ticks: entry.ticks, bad: 0, ignoredColumns: [], gaps: 0 }, 0),
      alreadyImported: true,
    };
  if (entry.pending !== undefined) {
    // The last run stopped in an append: what of it reached the WAL is the WAL's last seq past its start.
    entry.ticks = entry.pending.tick + Math.max(0, target.lastSeq - entry.pending.firstSeq + 1);
    entry.pending = undefined;
  }
  const done = entry.ticks;
  // The frames of the ticks not yet imported, final: seqs follow the WAL's, ts_recv is ts_event kept
  // non-decreasing (see targets.ts).
  const spool = new SpoolWriter(target.spoolPath);
  const encoder = new FrameEncoder();
  let index = 0;
  let seq = target.lastSeq;
  let tsRecv = target.lastTsRecv;
  let checked: Checked;
  try {
    checked = await check(
      path,
      o,
      (rt, cells, where) => rt.toTick(cells, where),
      (tick: Tick) => {
        if (index++ < done) return;
        if (tick.tsEvent! > tsRecv) tsRecv = tick.tsEvent!;
        spool.add(encoder.encode(tick, BigInt(++seq), tsRecv));
      },
    );
    spool.close();
  } catch (err) {
    spool.close();
    rmSync(target.spoolPath, { force: true });
    throw err;
  }
  const batchTicks = o.batchTicks ?? OFFLINE_BATCH;
  let written = 0;
  let n = 0;
  const commit = async (): Promise<void> => {
    await target.commit();
    entry.ticks += n;
    written += n;
    n = 0;
    ledger.put(entry);
    o.onProgress("write", entry.ticks, checked.ticks);
  };
  try {
    for (const frames of readSpool(target.spoolPath)) {
      for (let off = 0; off < frames.length;) {
        // Said before the append, so that after a crash in it the WAL tells how much of it landed.
        if (n === 0) ledger.put({ ...entry, pending: { tick: entry.ticks, firstSeq: target.lastSeq + 1 } });
        const len = frameLength(frames, off);
        target.append(frames.subarray(off, off + len), target.lastSeq + 1);
        off += len;
        if (++n === batchTicks) await commit();
      }
    }
    if (n > 0) await commit();
  } finally {
    rmSync(target.spoolPath, { force: true });
  }
  entry.done = true;
  ledger.put(entry);
  return { ...reportOf(path, checked, written), lastSeq: target.lastSeq };
}

/** Ledger updates online, at most this often (and once at the end). */
const ONLINE_LEDGER_MS = 200;

/**
 * Imports `path` into a running daemon: checked whole first, then sent in messages; the ledger advances
 * with the acks, and a re-run resumes after the last message acked. Messages in flight when a run was
 * interrupted (at most a window of them) may have landed unacked and are sent again: for exactly-once,
 * import offline.
 */
export async function importOnline(
  path: string,
  target: IngestTarget,
  url: string,
  ledger: ImportLedger,
  o: ImportOptions,
): Promise<ImportReport> {
  const checked = await check(
    path,
    o,
    (rt, cells, where) => rt.json(cells, where),
    () => {},
  );
  const entry = entryOf(ledger, `url:${url}`, path, checked.sha256);
  if (entry.done) return { ...reportOf(path, checked, 0), alreadyImported: true };
  let written = 0;
  let lastSeq: number | undefined;
  let savedAt = 0;
  const rt = new RowTicks(o.rows);
  let first = true;
  let row = 0;
  let batch: Record<string, unknown>[] = [];
  const send = (ticks: Record<string, unknown>[], endRow: number) =>
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
    });
  for await (const block of csvBlocks(path)) {
    for (let i = 0; i < block.rows.length; i++) {
      const cells = block.rows[i];
      if (first) {
        first = false;
        if (rt.header(cells)) continue;
      }
      if (row++ < entry.rows || blank(cells) || isGap(cells)) continue;
      try {
        batch.push(rt.json(cells, `${path}:${block.firstLine + i}`));
      } catch (err) {
        if (err instanceof TickringError && err.code === "BAD_TICK") continue; // reported by the check
        throw err;
      }
      if (batch.length >= (o.batchTicks ?? ONLINE_BATCH)) {
        await send(batch, row);
        batch = [];
      }
    }
  }
  if (batch.length > 0) await send(batch, row);
  await target.drain();
  entry.done = true;
  ledger.put(entry);
  return { ...reportOf(path, checked, written), lastSeq };
}

/** The ledger's entry of this file and target, or a new one. */
function entryOf(ledger: ImportLedger, target: string, path: string, sha256: string): LedgerEntry {
  return ledger.get(target, sha256) ?? { target, sha256, file: path, rows: 0, ticks: 0, done: false };
}

function reportOf(file: string, checked: Checked, written: number): ImportReport {
  return {
    file,
    sha256: checked.sha256,
    ticks: checked.ticks,
    bad: checked.bad,
    written,
    alreadyImported: false,
    lastSeq: undefined,
    ignoredColumns: checked.ignoredColumns,
    gaps: checked.gaps,
  };
}

/** Frames appended to a file through one buffer. */
class SpoolWriter {
  private readonly fd: number;
  private readonly buf = new Uint8Array(SPOOL_CHUNK);
  private used = 0;

  constructor(path: string) {
    this.fd = openSync(path, "w");
  }

  add(frame: Uint8Array): void {
    if (this.used + frame.length > this.buf.length) this.flush();
    if (frame.length > this.buf.length) writeSync(this.fd, frame);
    else {
      this.buf.set(frame, this.used);
      this.used += frame.length;
    }
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
}

/** The spool's frames, a chunk of whole frames at a time (views valid until the next). */
function* readSpool(path: string): Generator<Uint8Array> {
  const fd = openSync(path, "r");
  let buf = new Uint8Array(SPOOL_CHUNK);
  let have = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, have, buf.length - have, null);
      have += n;
      let end = 0;
      while (end + 4 <= have && end + frameLength(buf, end) <= have) end += frameLength(buf, end);
      if (end === 0 && have > 0 && n === 0)
        throw new TickringError("IO_ERROR", `${path} ends in a partial frame`);
      if (end > 0) yield buf.subarray(0, end);
      buf.copyWithin(0, end, have);
      have -= end;
      if (have + 4 <= buf.length && have >= 4 && frameLength(buf, 0) > buf.length) {
        const bigger = new Uint8Array(frameLength(buf, 0));
        bigger.set(buf.subarray(0, have));
        buf = bigger;
      }
      if (n === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}
