/**
 * `tickring import csv` and `tickring export`, as users run them (child processes, real data directories
 * and a real daemon), and the import's crash recovery in-process: an import stopped anywhere in an append
 * resumes exactly once.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { FrameEncoder, FrameView } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { importOffline, type ImportOptions } from "../../src/cli/import/import-file.js";
import { ImportLedger } from "../../src/cli/import/ledger.js";
import { OfflineTarget, type WalTarget } from "../../src/cli/import/targets.js";
import { readAckedSeq } from "../../src/storage/index.js";
import { type Daemon, startDaemon, tempDir } from "../support/daemon.js";
import { tickArb } from "../support/ticks.js";
import { walFrames } from "../support/wal.js";
import { oneLine, run } from "./run.js";

/** Every frame of a data directory's WAL, as JSON objects without seq and ts_recv (the target's own). */
function walTicks(data: string): Record<string, unknown>[] {
  const view = new FrameView();
  return walFrames(data).map((f) => {
    const { seq: _s, ts_recv: _r, ...o } = frameToObject(view.wrap(f));
    return o;
  });
}

const trade = (symbol: string, tsEvent: string, price: number, size: number) => ({
  symbol,
  instrument_id: 0,
  ts_event: tsEvent,
  type: "trade",
  price,
  size,
  aggressor: null,
  trade_id: "0",
});

describe("tickring import csv, offline", () => {
  const dir = tempDir("tickring-import-");
  after(() => dir.remove());

  test("a file with a header is imported once: a second run adds nothing", async () => {
    const data = join(dir.path, "a");
    const file = join(dir.path, "a.csv");
    writeFileSync(
      file,
      "ts_event,symbol,price,size,venue\n2026-11-23T14:30:00.000000001Z,AAPL,189.5,100,X\n\n1795444200500000000,MSFT,410.25,5,Y\n",
    );
    const first = await run(["import", "csv", file, "--data", data]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), {
      ...JSON.parse(first.stdout),
      ticks: 2,
      written: 2,
      bad_rows: 0,
      already_imported: false,
      last_seq: 2,
      ignored_columns: ["venue"],
    });
    const want = [
      trade("AAPL", "1795444200000000001", 189.5, 100),
      trade("MSFT", "1795444200500000000", 410.25, 5),
    ];
    const got = walTicks(data).map((o) => ({ ...o, instrument_id: 0 }));
    assert.deepEqual(got, want);
    // What the import made durable counts as acked: a later start never rolls it back as never acked.
    assert.equal(readAckedSeq(join(data, "acked-seq")).seq, 2);
    assert.ok(!existsSync(join(data, "reserve")), "the reserve is left to the daemon's start");
    const again = await run(["import", "csv", file, "--data", data]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).already_imported, true);
    assert.equal(walTicks(data).length, 2);
  });

  test("a gzip file without a header, with --columns, --symbol and --time-format", async () => {
    const data = join(dir.path, "gz");
    const file = join(dir.path, "quotes.csv.gz");
    writeFileSync(file, gzipSync("1795444200.25,1.5,100,1.6,200\n1795444201,1.55,10,1.65,20\n"));
    const r = await run([
      "import",
      "csv",
      file,
      "--data",
      data,
      "--type",
      "quote",
      "--symbol",
      "EURUSD",
      "--time-format",
      "s",
      "--columns",
      "ts_event,bid_price,bid_size,ask_price,ask_size",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      walTicks(data).map((o) => [o.symbol, o.type, o.ts_event, o.bid_price, o.ask_size]),
      [
        ["EURUSD", "quote", "1795444200250000000", 1.5, 200],
        ["EURUSD", "quote", "1795444201000000000", 1.55, 20],
      ],
    );
  });

  test("a bad file is refused whole with the line of each bad row; --max-errors skips them instead", async () => {
    const data = join(dir.path, "bad");
    const file = join(dir.path, "bad.csv");
    writeFileSync(
      file,
      "symbol,ts_event,price,size\nAAPL,1795444200000000000,1,1\nAAPL,yesterday,1,1\nAAPL,1795444200000000001,-,1\nMSFT,1795444200000000002,2,2\n",
    );
    const refused = await run(["import", "csv", file, "--data", data, "--max-errors", "1"]);
    assert.equal(refused.code, 2);
    assert.deepEqual(refused.stderr.trimEnd().split("\n"), [
      `tickring: import: ${file}:3: ts_event: expected an ISO-8601 time or a number of s, ms, µs or ns, got "yesterday"`,
      `tickring: import: ${file}:4: price: expected a finite number, got "-"`,
      `tickring: ${file}: more than 1 bad rows (--max-errors): nothing of it was imported`,
    ]);
    assert.equal(walTicks(data).length, 0, "nothing written");
    const skipped = await run(["import", "csv", file, "--data", data, "--max-errors", "2"]);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.deepEqual(JSON.parse(skipped.stdout).bad_rows, 2);
    assert.deepEqual(
      walTicks(data).map((o) => o.price),
      [1, 2],
    );
  });

  test("the #gap lines of an export are skipped and counted, not bad rows", async () => {
    const data = join(dir.path, "gaps");
    const file = join(dir.path, "gaps.csv");
    writeFileSync(
      file,
      "seq,type,symbol,instrument_id,ts_event,ts_recv,price,size,aggressor,trade_id\n" +
        "#gap,1,40,retired\n" +
        "41,trade,AAPL,0,1795444200000000001,1795444200000000001,189.5,100,,0\n" +
        "#gap,42,60,unreadable\n" +
        "61,trade,MSFT,0,1795444200500000000,1795444200500000000,410.25,5,,0\n",
    );
    const r = await run(["import", "csv", file, "--data", data]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const report = JSON.parse(r.stdout);
    assert.deepEqual([report.ticks, report.bad_rows, report.gaps], [2, 0, 2]);
    assert.deepEqual(
      walTicks(data).map((o) => ({ ...o, instrument_id: 0 })),
      [trade("AAPL", "1795444200000000001", 189.5, 100), trade("MSFT", "1795444200500000000", 410.25, 5)],
    );
  });

  test("bad flags exit 2 with one line, and touch no data directory", async () => {
    const file = join(dir.path, "a.csv");
    const x = join(dir.path, "x");
    for (const [args, message] of [
      [["--data", x, "--url", "ws://y"], /give exactly one of --data DIR/],
      [["--data", x, "--type", "trades"], /^tickring: --type: expected trade, quote, bar, book/],
      [["--data", x, "--columns", "symbol,when"], /^tickring: --columns: unknown column "when"/],
      [["--data", x, "--interval", "90ms"], /^tickring: --interval: expected a whole number of seconds/],
    ] as const) {
      const r = await run(["import", "csv", file, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLine(r), message);
    }
    assert.equal(existsSync(x), false);
  });
});

/** A target that stops at its `crashAt`-th append, as a crash would (what was appended before lands). */
class Crashing implements WalTarget {
  private appends = 0;
  constructor(
    private readonly real: OfflineTarget,
    private readonly crashAt: number,
  ) {}
  get dataDir() {
    return this.real.dataDir;
  }
  get lastSeq() {
    return this.real.lastSeq;
  }
  get lastTsRecv() {
    return this.real.lastTsRecv;
  }
  get spoolPath() {
    return this.real.spoolPath;
  }
  append(frame: Uint8Array, seq: number): void {
    if (this.appends++ === this.crashAt) throw new Error("crash");
    this.real.append(frame, seq);
  }
  commit(): Promise<void> {
    return this.real.commit();
  }
}

test("an import stopped anywhere in an append resumes with every good row exactly once", async () => {
  const dir = tempDir("tickring-resume-");
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 7 }),
        async (rows, crashAt, batchTicks) => {
          const case_ = tempDir("tickring-resume-case-");
          const file = join(case_.path, "t.csv");
          const lines = Array.from({ length: rows }, (_, i) =>
            i % 9 === 4 ? `BAD,x,1,1` : `S${i % 3},${1795444200000000000n + BigInt(i)},${i + 0.5},${i}`,
          );
          writeFileSync(file, lines.join("\n") + "\n");
          const o: ImportOptions = {
            rows: { type: "trade", timeFormat: "auto" },
            maxErrors: rows,
            onBadRow: () => {},
            onProgress: () => {},
            batchTicks,
          };
          const data = join(case_.path, "data");
          const ledgerPath = join(case_.path, "ledger.json");
          try {
            let target = await OfflineTarget.open(data);
            const crashed = await importOffline(
              file,
              new Crashing(target, crashAt),
              new ImportLedger(ledgerPath),
              o,
            ).then(
              () => false,
              (err: Error) => {
                assert.equal(err.message, "crash");
                return true;
              },
            );
            await target.close();
            target = await OfflineTarget.open(data);
            await importOffline(file, target, new ImportLedger(ledgerPath), o);
            await target.close();
            const want = lines.filter((l) => !l.startsWith("BAD")).map((l) => l.split(",")[3]);
            assert.deepEqual(
              walTicks(data).map((t) => String(t.size)),
              want,
              crashed ? "after a crash" : "no crash",
            );
          } finally {
            case_.remove();
          }
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    dir.remove();
  }
});

test("export, then import of the export, gives back the same ticks", async () => {
  const dir = tempDir("tickring-roundtrip-");
  try {
    // Symbols are trimmed like every cell: ones that start or end with a space do not round-trip.
    const ticks = fc.sample(tickArb, { numRuns: 300, seed: 42 }).filter((t) => t.symbol.trim() === t.symbol);
    const source = join(dir.path, "source");
    const target = await OfflineTarget.open(source);
    const enc = new FrameEncoder();
    for (const [i, t] of ticks.entries()) target.append(enc.encode(t, BigInt(i + 1), BigInt(i + 1)), i + 1);
    await target.commit();
    await target.close();
    const csv = join(dir.path, "export.csv");
    const exported = await run(["export", "csv", "--data", source, "--from", "1", "--out", csv]);
    assert.equal(exported.code, 0, exported.stderr);
    const copy = join(dir.path, "copy");
    const imported = await run(["import", "csv", csv, "--data", copy]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(JSON.parse(imported.stdout).written, ticks.length);
    assert.deepEqual(walTicks(copy), walTicks(source));
    const ndjson = await run(["export", "ndjson", "--data", copy, "--from", "1", "--types", "trade"]);
    assert.equal(ndjson.code, 0, ndjson.stderr);
    assert.equal(ndjson.stdout.trimEnd().split("\n").length, ticks.filter((t) => t.type === "trade").length);
  } finally {
    dir.remove();
  }
});

describe("tickring import csv --url, and export --url", () => {
  const dir = tempDir("tickring-import-online-");
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon(join(dir.path, "data"));
  });
  after(async () => {
    const code = await daemon.stop();
    dir.remove();
    assert.equal(code, 0, daemon.stderr());
  });

  test("ticks go through ingest with acks; a second run adds nothing; the export has them", async () => {
    const file = join(dir.path, "t.csv");
    writeFileSync(
      file,
      Array.from({ length: 12_000 }, (_, i) => `S${i % 5},${1795444200000000000n + BigInt(i)},${i},1`).join(
        "\n",
      ),
    );
    const ledger = join(dir.path, "ledger.json");
    const importIt = () =>
      run(["import", "csv", file, "--url", `ws://127.0.0.1:${daemon.port}`, "--ledger", ledger]);
    const first = await importIt();
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual([JSON.parse(first.stdout).written, JSON.parse(first.stdout).last_seq], [12_000, 12_000]);
    const again = await importIt();
    assert.equal(JSON.parse(again.stdout).already_imported, true);
    const exported = await run([
      "export",
      "csv",
      "--url",
      `http://127.0.0.1:${daemon.port}`,
      "--from",
      "1",
      "--types",
      "trade",
      "--symbols",
      "S3",
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    const rows = exported.stdout.trimEnd().split("\n");
    assert.equal(rows[0], "seq,type,symbol,instrument_id,ts_event,ts_recv,price,size,aggressor,trade_id");
    assert.equal(rows.length - 1, 2400);
    const refused = await run([
      "export",
      "csv",
      "--url",
      `http://127.0.0.1:${daemon.port}`,
      "--from",
      "99999",
    ]);
    assert.equal(refused.code, 2);
    assert.match(
      oneLine(refused),
      /^tickring: the daemon refused the export: from seq 99999 is past the newest seq 12000/,
    );
  });
});
