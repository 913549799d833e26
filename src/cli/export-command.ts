/**
 * `tickring export csv|ndjson|json`: a range of history to a file (or stdout), from a running daemon
 * (`--url`, through `GET /v1/history`) or a stopped daemon's data directory (`--data`, read in this process
 * with the same code), with a progress bar. The CSV is what `tickring import csv` reads: importing an export
 * gives back the same ticks (with the target's own seqs and ts_recv). Seqs history cannot give are said in
 * the file where they fall (a gap record, or a `#gap` line in CSV) and, from a data directory, on stderr.
 */
import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import type { Command } from "commander";
import { isErrorCode, OptionError, TickringError } from "../errors.js";
import { JsonRenderer } from "../frame/json-render.js";
import type { TextFormat } from "../subscriber/frame-text.js";
import { renderHistory } from "../subscriber/history-text.js";
import { parseDataQuery } from "../subscriber/http-query.js";
import type { GapReason } from "../subscriber/ring-pump.js";
import { resolveRange } from "../subscriber/seq-range.js";
import { type RecordSink, TextChunks } from "../subscriber/text-chunks.js";
import { openOfflineDataDir } from "./offline-data-dir.js";
import { rowsBar, type RowsBar } from "./rows-bar.js";

const FORMATS: readonly TextFormat[] = ["csv", "ndjson", "json"];

interface Flags {
  data?: string;
  url?: string;
  symbols: string;
  from: string;
  to?: string;
  types?: string;
  bars?: string;
  out?: string;
  progress?: boolean;
}

export function registerExportCommand(program: Command): void {
  program
    .command("export")
    .description("write a range of history as CSV, NDJSON or JSON (what tickring import csv reads back)")
    .argument("<format>", FORMATS.join(" | "))
    .option("--data <dir>", "data directory of a stopped daemon")
    .option("--url <url>", "a running daemon, e.g. http://127.0.0.1:9420")
    .option("--symbols <list>", "comma-separated symbols, or * for all", "*")
    .requiredOption("--from <seq|time>", "first seq (e.g. 1) or time (e.g. 2026-11-23T09:30:00Z), by ts_recv")
    .option("--to <seq|time>", "last seq or time, inclusive (default: the newest)")
    .option("--types <list>", "frame types, e.g. trade,quote (default: all)")
    .option("--bars <list>", "bar intervals of the bar frames, e.g. 1m (default: all)")
    .option("--out <file>", "write here instead of stdout")
    .option("--progress", "draw the progress bar on stderr even when it is not a terminal")
    .action(async (format: string, flags: Flags) => {
      if (!FORMATS.includes(format as TextFormat)) {
        throw new OptionError("export", `the format is ${FORMATS.join(", ")}, not "${format}"`);
      }
      if ((flags.data === undefined) === (flags.url === undefined)) {
        throw new OptionError("export", "give exactly one of --data DIR (offline) or --url URL (online)");
      }
      const params = new URLSearchParams({ symbols: flags.symbols, from: flags.from, format });
      if (flags.to !== undefined) params.set("to", flags.to);
      if (flags.types !== undefined) params.set("types", flags.types);
      if (flags.bars !== undefined) params.set("bars", flags.bars);
      const out = new Output(flags.out, rowsBar(flags.progress));
      try {
        if (flags.url !== undefined) await fromDaemon(flags.url, params, out);
        else await fromDataDir(flags.data!, params, out);
        await out.close();
      } catch (err) {
        out.abandon();
        throw err;
      }
    });
}

/** `GET <url>/v1/history?…`, streamed into `out`. */
async function fromDaemon(url: string, params: URLSearchParams, out: Output): Promise<void> {
  let endpoint: URL;
  try {
    endpoint = new URL(`/v1/history?${params}`, url.replace(/^ws(s?):/, "http$1:"));
  } catch {
    throw new OptionError("--url", `not a URL: ${JSON.stringify(url)}`);
  }
  let res: Response;
  try {
    res = await fetch(endpoint);
  } catch (err) {
    throw new TickringError("UNAVAILABLE", `cannot reach ${endpoint.origin}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
    throw new TickringError(
      isErrorCode(body.code) ? body.code : "UNAVAILABLE",
      `the daemon refused the export: ${String(body.message ?? res.statusText)}`,
    );
  }
  out.range(Number(res.headers.get("x-tickring-from-seq")), Number(res.headers.get("x-tickring-to-seq")));
  for await (const chunk of res.body!) await out.write(chunk as Uint8Array);
}

/** The range read from a stopped daemon's data directory (locked while read), into `out`. */
async function fromDataDir(path: string, params: URLSearchParams, out: Output): Promise<void> {
  const q = parseDataQuery(params.toString(), {
    takes: ["symbols", "from", "to", "types", "bars", "format"],
    requires: ["symbols", "from"],
    format: "ndjson",
  });
  const dir = await openOfflineDataDir(path);
  try {
    const history = { walDir: dir.dataDir.walDir, store: async () => dir.store };
    const range = await resolveRange(history, q.from!, q.to, dir.wal.lastSeq);
    out.range(range.fromSeq, range.toSeq);
    const gaps: string[] = [];
    await renderHistory(history, range, q, out, (from, to, reason) => gaps.push(gapLine(from, to, reason)));
    // Said after the progress bar is done with stderr.
    out.after(gaps);
  } finally {
    await dir.close();
  }
}

function gapLine(from: number, to: number, reason: GapReason): string {
  const why = reason === "retired" ? "retention removed them" : `history has them ${reason}`;
  return `tickring export: seqs ${from}–${to} are not in the export (${why}); the file marks where they were\n`;
}

/** Where the export goes: a file or stdout, with the progress bar advancing by seq. */
class Output implements RecordSink {
  readonly chunks = new TextChunks(new JsonRenderer());
  private readonly stream: Writable;
  private from = 0;
  private to = 0;
  private notes: string[] = [];

  constructor(
    private readonly path: string | undefined,
    private readonly bar: RowsBar,
  ) {
    this.stream = path === undefined ? process.stdout : createWriteStream(path);
  }

  range(from: number, to: number): void {
    this.from = from;
    this.to = to;
  }

  /** Lines for stderr once the export is written. */
  after(notes: string[]): void {
    this.notes = notes;
  }

  /** A full chunk is written, waiting while the file or pipe is behind. */
  pace(): boolean | Promise<boolean> {
    return this.chunks.full ? this.write(this.chunks.take()).then(() => true) : true;
  }

  /** Writes `bytes`, waiting while the file or pipe is behind. */
  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    const seq = lastSeqIn(bytes);
    if (seq > 0 && this.to >= this.from)
      this.bar.update("export", seq - this.from + 1, this.to - this.from + 1, "seqs");
    if (!this.stream.write(bytes)) await new Promise((resolve) => this.stream.once("drain", resolve));
  }

  async close(): Promise<void> {
    await this.write(this.chunks.take());
    this.bar.stop();
    for (const note of this.notes) process.stderr.write(note);
    if (this.path !== undefined)
      await new Promise<void>((resolve, reject) =>
        this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
  }

  /** Stops the bar and closes a file (what was written of it stays; the command fails saying why). */
  abandon(): void {
    this.bar.stop();
    if (this.path !== undefined) this.stream.destroy();
  }
}

/**
 * The seq of the last record in `bytes` (NDJSON/JSON `{"seq":N,…` or a CSV row `N,…`), 0 when none: read
 * from the chunk's end only.
 */
function lastSeqIn(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
    .subarray(Math.max(0, bytes.length - 4096))
    .toString("latin1");
  const json = text.lastIndexOf('{"seq":');
  if (json >= 0) return Number.parseInt(text.slice(json + 7, json + 24), 10) || 0;
  const line = text.lastIndexOf("\n", text.length - 2);
  return Number.parseInt(text.slice(line + 1, line + 18), 10) || 0;
}
