/**
 * Import benchmark: `tickring import csv` offline (the in-process import of src/cli/import, without the
 * CLI's start-up), in rows per second, for a plain and a gzip file of trades, against the baseline of only
 * parsing the same file with papaparse (what reading the CSV costs before anything is checked or written).
 * Then where the import's CPU work (parse, check, encode: encode-block.ts) should run: in place, or on a
 * piscina pool of one or two threads with the frames stamped in order on this one.
 *
 *   node dist/bench/import/import.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import Papa from "papaparse";
import { Piscina } from "piscina";
import { importOffline } from "../../src/cli/import/import-file.js";
import { ImportLedger } from "../../src/cli/import/ledger.js";
import { OfflineTarget } from "../../src/cli/import/targets.js";
import { frameLength, frameTsEventPos, stampFrame } from "../../src/frame/codec.js";
import { IMPORT } from "../catalog.js";
import { benchFlags } from "../flags.js";
import { machine as machineNow } from "../machine.js";
import { encodeBlock, textBlocks } from "./encode-block.js";

const values = benchFlags(IMPORT);
const ROWS = values.smoke ? 20_000 : values.rows;
const dir = mkdtempSync(join(tmpdir(), "tickring-import-bench-"));

/** A session of trades: symbol, ISO ts_event with ns, price, size (what a tick-data vendor ships). */
function csv(rows: number): string {
  const t0 = Date.UTC(2026, 10, 23, 14, 30);
  const lines = ["symbol,ts_event,price,size"];
  for (let i = 0; i < rows; i++) {
    const ns = i * 93_000;
    const iso = new Date(t0 + Math.floor(ns / 1e6))
      .toISOString()
      .replace("Z", `${String(ns % 1e6).padStart(6, "0")}Z`);
    lines.push(`SYM${i % 50},${iso},${(100 + (i % 997) / 100).toFixed(2)},${100 * (1 + (i % 9))}`);
  }
  return lines.join("\n") + "\n";
}

async function importRate(file: string): Promise<number> {
  const data = join(dir, `data-${Math.random().toString(36).slice(2)}`);
  const target = await OfflineTarget.open(data);
  const t = performance.now();
  const r = await importOffline(file, target, new ImportLedger(join(data, "imports.json")), {
    rows: { type: "trade", timeFormat: "auto" },
    maxErrors: 0,
    onBadRow: () => {},
    onProgress: () => {},
  });
  const s = (performance.now() - t) / 1000;
  await target.close();
  rmSync(data, { recursive: true, force: true });
  if (r.written !== ROWS) throw new Error(`imported ${r.written} of ${ROWS} rows`);
  return ROWS / s;
}

function parseRate(file: string): number {
  const t = performance.now();
  const text = readFileSync(file, "utf8");
  const rows = Papa.parse<string[]>(text).data.length - 2;
  const s = (performance.now() - t) / 1000;
  if (rows !== ROWS) throw new Error(`parsed ${rows} of ${ROWS} rows`);
  return ROWS / s;
}

/** Stamps a block's frames in order (seq, ts_recv non-decreasing), as the import does; returns the frames. */
function stamper(): (frames: Uint8Array) => number {
  let seq = 0;
  let tsRecv = 0n;
  return (frames) => {
    const view = new DataView(frames.buffer, frames.byteOffset, frames.length);
    let n = 0;
    for (let off = 0; off < frames.length; off += frameLength(frames, off), n++) {
      const ts = view.getBigInt64(frameTsEventPos(frames, off), true);
      if (ts > tsRecv) tsRecv = ts;
      stampFrame(frames, view, off, ++seq, tsRecv);
    }
    return n;
  };
}

const ROW_OPTIONS = { type: "trade", timeFormat: "auto" } as const;

/** The CPU part in this thread: rows per second. */
function placedHere(blocks: string[]): number {
  const stamp = stamper();
  const t = performance.now();
  let n = 0;
  for (const b of blocks) n += stamp(encodeBlock(b, ROW_OPTIONS).frames);
  if (n !== ROWS) throw new Error(`encoded ${n} of ${ROWS} rows`);
  return ROWS / ((performance.now() - t) / 1000);
}

/** The same on a pool of `threads`, two blocks in flight per thread, stamped here in order: rows per second. */
async function placedOnPool(pool: Piscina, threads: number, blocks: string[], rows = ROWS): Promise<number> {
  const stamp = stamper();
  const t = performance.now();
  let n = 0;
  const inFlight: Promise<Uint8Array>[] = [];
  let next = 0;
  const submit = () => {
    if (next < blocks.length) inFlight.push(pool.run({ text: blocks[next++], rows: ROW_OPTIONS }));
  };
  for (let i = 0; i < 2 * threads; i++) submit();
  while (inFlight.length > 0) {
    n += stamp(await inFlight.shift()!);
    submit();
  }
  if (n !== rows) throw new Error(`encoded ${n} of ${rows} rows on the pool`);
  return rows / ((performance.now() - t) / 1000);
}

try {
  const text = csv(ROWS);
  const plain = join(dir, "trades.csv");
  const gz = join(dir, "trades.csv.gz");
  writeFileSync(plain, text);
  writeFileSync(gz, gzipSync(text));
  const rounds = values.smoke ? 1 : 3;
  const best = async (f: () => Promise<number> | number) => {
    let b = 0;
    for (let i = 0; i < rounds; i++) b = Math.max(b, await f());
    return Math.round(b);
  };
  process.stderr.write("import: papaparse only …");
  const parse = await best(() => parseRate(plain));
  process.stderr.write(" plain …");
  const importPlain = await best(() => importRate(plain));
  process.stderr.write(" gzip …");
  const importGzip = await best(() => importRate(gz));
  process.stderr.write(" placement …");
  const blocks = textBlocks(text);
  const here = await best(() => placedHere(blocks));
  const pooled: Record<number, number> = {};
  for (const threads of [1, 2]) {
    const pool = new Piscina({
      filename: new URL("./encode-task.js", import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      atomics: "disabled",
    });
    const warm = blocks.slice(0, 2 * threads);
    await placedOnPool(pool, threads, warm, warm.join("\n").split("\n").length); // threads up, JIT warm
    pooled[threads] = await best(() => placedOnPool(pool, threads, blocks));
    await pool.destroy();
  }
  process.stderr.write(" done\n");
  const machine = machineNow();
  const result = {
    bench: "import",
    machine,
    rows: ROWS,
    csvBytes: text.length,
    parseRowsPerSecond: parse,
    importRowsPerSecond: importPlain,
    importGzipRowsPerSecond: importGzip,
    ratio: Math.round((importPlain / parse) * 100) / 100,
    placement: { inPlace: here, pool1: pooled[1], pool2: pooled[2] },
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `import — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, load ${machine.load.toFixed(1)}, ${ROWS} trade rows (${(text.length / 1e6).toFixed(1)} MB of CSV), best of ${rounds}`,
    );
    console.log(`baseline, papaparse alone: ${parse} rows/s`);
    console.log(`import offline, plain CSV: ${importPlain} rows/s (ratio to parsing alone ${result.ratio})`);
    console.log(`import offline, gzip CSV:  ${importGzip} rows/s`);
    const r = (x: number) => Math.round((x / here) * 100) / 100;
    console.log(
      `parse+check+encode placement: in place ${here} rows/s; piscina 1 thread ${pooled[1]} (${r(pooled[1])}); 2 threads ${pooled[2]} (${r(pooled[2])})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
