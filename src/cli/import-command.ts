/**
 * `tickring import csv FILE…`: loads CSV files of trades, quotes, bars or books into a stopped daemon's data
 * directory (`--data`, offline, exactly once) or a running daemon (`--url`, through `/v1/ingest` with acks).
 * Each file is checked whole before anything of it is written (bad rows reported with their line; past
 * `--max-errors` the file is not imported at all), then written in batches; a ledger keyed by the file's
 * SHA-256 makes a re-run resume an interrupted import and skip a finished one. See src/cli/import/.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { BAR_INTERVAL_RULE, parseBarInterval } from "../config/bar-interval.js";
import { OptionError } from "../errors.js";
import { SYMBOL_RULE, symbolProblem } from "../frame/symbol-rules.js";
import { dataDirLayout } from "../storage/index.js";
import { type ImportOptions, importOffline, importOnline, type ImportReport } from "./import/import-file.js";
import { ImportLedger } from "./import/ledger.js";
import { type RowOptions, RowTicks, type TickType, type TimeFormat } from "./import/row-ticks.js";
import { OfflineTarget, OnlineTarget } from "./import/targets.js";
import { rowsBar } from "./rows-bar.js";

const TYPES: readonly TickType[] = ["trade", "quote", "bar", "book"];
const TIME_FORMATS: readonly TimeFormat[] = ["auto", "iso", "s", "ms", "us", "ns"];

interface Flags {
  data?: string;
  url?: string;
  type: string;
  columns?: string;
  timeFormat: string;
  symbol?: string;
  interval?: string;
  maxErrors: string;
  ledger?: string;
  progress?: boolean;
}

export function registerImportCommand(program: Command): void {
  program
    .command("import")
    .description("load data from files: tickring import csv FILE… (--data DIR | --url ws://…)")
    .command("csv")
    .description(
      "import CSV files (gzip read as is) of trades, quotes, bars or books, checked row by row; a re-run resumes or skips what was imported",
    )
    .argument("<files...>", "CSV files, plain or gzip")
    .option("--data <dir>", "data directory of a stopped daemon (offline: exactly once)")
    .option("--url <url>", "a running daemon, e.g. ws://127.0.0.1:9420 (online, through /v1/ingest)")
    .option("--type <type>", `type of the rows without a type column: ${TYPES.join(" | ")}`, "trade")
    .option(
      "--columns <list>",
      "the columns, in order, e.g. symbol,ts_event,price,size (default: the file's header, else the type's default)",
    )
    .option("--time-format <format>", `ts_event as ${TIME_FORMATS.join(" | ")}`, "auto")
    .option("--symbol <symbol>", "symbol of rows without a symbol column")
    .option("--interval <duration>", "interval of bar rows without an interval_ns column, e.g. 1m, 1d")
    .option(
      "--max-errors <n>",
      "bad rows skipped (and reported) per file; one more stops it, unimported",
      "0",
    )
    .option(
      "--ledger <file>",
      "where imports are remembered (default: <data>/imports.json, or ~/.tickring/imports.json online)",
    )
    .option("--progress", "draw the progress bar on stderr even when it is not a terminal")
    .addHelpText(
      "after",
      "\nDefault columns without a header: trade symbol,ts_event,price,size; quote symbol,ts_event," +
        "bid_price,bid_size,ask_price,ask_size; bar symbol,ts_event,open,high,low,close,volume; book " +
        "symbol,ts_event,snapshot,bids,asks.\nts_event auto: ISO-8601 (UTC unless it has a zone), or a " +
        "number: nanoseconds under a ts_event header (as tickring export writes), else its size gives its unit " +
        "(19 digits ns, 16 µs, 13 ms, 10 s).\nOne JSON line per file on stdout.",
    )
    .action(async (files: string[], flags: Flags) => {
      const o = importOptions(flags);
      if ((flags.data === undefined) === (flags.url === undefined)) {
        throw new OptionError("import csv", "give exactly one of --data DIR (offline) or --url URL (online)");
      }
      const bar = rowsBar(flags.progress);
      o.onProgress = (phase, done, total) =>
        phase === "check"
          ? bar.update("check", done, total, "bytes")
          : bar.update("import", done, total, "ticks");
      try {
        if (flags.data !== undefined) {
          const target = await OfflineTarget.open(flags.data);
          const ledger = new ImportLedger(flags.ledger ?? dataDirLayout(flags.data).importsFile);
          try {
            for (const file of files) print(await importOffline(file, target, ledger, o));
          } finally {
            await target.close();
          }
        } else {
          const url = flags.url!;
          const ledger = new ImportLedger(flags.ledger ?? join(homedir(), ".tickring", "imports.json"));
          const target = await OnlineTarget.connect(url);
          try {
            for (const file of files) print(await importOnline(file, target, url, ledger, o));
          } finally {
            target.close();
          }
        }
      } finally {
        bar.stop();
      }
    });
}

/** The flags as import options; throws an OptionError (exit 2) naming a bad one. */
function importOptions(flags: Flags): ImportOptions {
  if (!TYPES.includes(flags.type as TickType))
    throw new OptionError("--type", `expected ${TYPES.join(", ")}, got "${flags.type}"`);
  if (!TIME_FORMATS.includes(flags.timeFormat as TimeFormat)) {
    throw new OptionError("--time-format", `expected ${TIME_FORMATS.join(", ")}, got "${flags.timeFormat}"`);
  }
  if (!/^\d+$/.test(flags.maxErrors))
    throw new OptionError("--max-errors", `expected a count, got "${flags.maxErrors}"`);
  if (flags.symbol !== undefined) {
    const problem = symbolProblem(flags.symbol);
    if (problem !== undefined)
      throw new OptionError("--symbol", `expected a symbol of ${SYMBOL_RULE}; this one ${problem}`);
  }
  let intervalNs: bigint | undefined;
  if (flags.interval !== undefined) {
    const ms = parseBarInterval(flags.interval);
    if (ms === undefined)
      throw new OptionError("--interval", `expected ${BAR_INTERVAL_RULE}, got "${flags.interval}"`);
    intervalNs = BigInt(ms) * 1_000_000n;
  }
  const rows: RowOptions = {
    type: flags.type as TickType,
    columns: flags.columns?.split(",").map((c) => c.trim()),
    timeFormat: flags.timeFormat as TimeFormat,
    symbol: flags.symbol,
    intervalNs,
  };
  new RowTicks(rows); // refuses unknown --columns now, before a data directory is touched
  return {
    rows,
    maxErrors: Number(flags.maxErrors),
    onBadRow: (message) => process.stderr.write(`tickring: import: ${message}\n`),
    onProgress: () => {},
  };
}

function print(r: ImportReport): void {
  process.stdout.write(
    `${JSON.stringify({
      file: resolve(r.file),
      sha256: r.sha256,
      ticks: r.ticks,
      written: r.written,
      bad_rows: r.bad,
      already_imported: r.alreadyImported,
      last_seq: r.lastSeq ?? null,
      ...(r.ignoredColumns.length > 0 ? { ignored_columns: r.ignoredColumns } : {}),
      ...(r.gaps > 0 ? { gaps: r.gaps } : {}),
    })}\n`,
  );
}
