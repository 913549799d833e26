/**
 * HTTP history benchmark: `GET /v1/history` (NDJSON, CSV, JSON) and `GET /v1/bars` from a real daemon to
 * one client reading as fast as it can, in ticks (or bars) per second, against the baseline of rendering
 * the same range in this process with no HTTP (what the socket thread does per tick, minus the socket).
 * Then where rendering should run: in place on the socket thread (what tickring does) or on a piscina pool
 * thread that streams the text back over a MessagePort.
 *
 *   node dist/bench/http/http.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get } from "node:http";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { spawnDaemon } from "../../src/daemon/child-process.js";
import { FrameEncoder, type Tick } from "../../src/frame/codec.js";
import { Store, Wal } from "../../src/storage/index.js";
import { HTTP } from "../catalog.js";
import { benchFlags } from "../flags.js";
import { machine as machineNow } from "../machine.js";
import { countingSink, render } from "./render.js";
import type { RenderTask } from "./render-task.js";

const values = benchFlags(HTTP);
const N = values.smoke ? 20_000 : values.frames;
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `SYM${i}`);
const T0 = 1_790_000_000_000_000_000n;

/** A data dir with N frames (3 trades to 1 quote) in the WAL, ts_recv 100 µs apart. */
async function makeData(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "tickring-http-bench-"));
  const { wal } = await Wal.open({ dir: join(dir, "wal"), fsync: "os", segmentBytes: 64 * 1024 * 1024 });
  const enc = new FrameEncoder();
  for (let s = 1; s <= N; s++) {
    const symbol = SYMBOLS[s % SYMBOLS.length];
    const ts = T0 + BigInt(s) * 100_000n;
    const tick: Tick =
      s % 4 === 0
        ? {
            type: "quote",
            symbol,
            bidPrice: 100 + (s % 89) / 100,
            bidSize: 300,
            askPrice: 100.01 + (s % 89) / 100,
            askSize: 200,
            tsEvent: ts,
          }
        : {
            type: "trade",
            symbol,
            price: 100 + (s % 97) / 100,
            size: 100 * (1 + (s % 7)),
            aggressor: s % 2 ? "buy" : "sell",
            tradeId: BigInt(s),
            tsEvent: ts,
          };
    wal.append(enc.encode(tick, BigInt(s), ts), s);
    if (s % 4096 === 0) wal.write();
  }
  await wal.flush();
  await wal.close();
  return dir;
}

/**
 * Records per second of one GET, read as fast as a plain node:http client can (the body is counted, not
 * kept or decoded: the client shares the machine's cores with the daemon, and must cost little).
 */
function fetchRate(
  port: number,
  path: string,
  marker: string,
): Promise<{ rate: number; n: number; mb: number }> {
  const needle = Buffer.from(marker);
  return new Promise((resolve, reject) => {
    const t = performance.now();
    get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
      let n = 0;
      let bytes = 0;
      let tail: Buffer = Buffer.alloc(0);
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        // A record ends in a line break (NDJSON, CSV) or starts with {"seq" (JSON), which may straddle chunks.
        const text = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
        for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
        tail = text.subarray(Math.max(0, text.length - needle.length + 1));
        if (tail.indexOf(needle[0]) < 0) tail = Buffer.alloc(0);
      });
      res.on("end", () =>
        resolve({ rate: Math.round(n / ((performance.now() - t) / 1000)), n, mb: bytes / 1e6 }),
      );
      res.on("error", reject);
    }).on("error", reject);
  });
}

/** What ends (or starts) one record in each answer, to count them. */
const lines = "\n";
const jsonRecords = '{"seq"';

/** In this process, no HTTP: the range rendered as NDJSON, or as 1-minute bars; records per second. */
async function inPlace(dir: string, what: "ndjson" | "bars"): Promise<number> {
  const store = await Store.open({ dir: join(dir, "store") });
  const history = { walDir: join(dir, "wal"), store: async () => store };
  const range = { fromSeq: 1, toSeq: N, toTimeNs: Number.POSITIVE_INFINITY };
  let bytes = 0;
  const sink = countingSink((n) => (bytes += n));
  const t = performance.now();
  const records = await render(history, range, what, sink);
  const s = (performance.now() - t) / 1000;
  await store.close();
  if (bytes === 0) throw new Error("nothing rendered");
  // Bars: the rate that matters is trades aggregated per second.
  return Math.round((what === "ndjson" ? records : N) / s);
}

/** The same work on a piscina pool thread, its text streamed to this thread. */
async function onPool(pool: Piscina, dir: string, what: "ndjson" | "bars"): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  let bytes = 0;
  const t = performance.now();
  const received = new Promise<void>((resolve) => {
    port1.on("message", (chunk: Uint8Array | null) => {
      if (chunk === null) resolve();
      else bytes += chunk.length;
    });
  });
  const task: RenderTask = {
    walDir: join(dir, "wal"),
    storeDir: join(dir, "store"),
    toSeq: N,
    what,
    port: port2,
  };
  const records = (await pool.run(task, { transferList: [port2] })) as number;
  await received;
  port1.close();
  const s = (performance.now() - t) / 1000;
  if (bytes === 0) throw new Error("nothing rendered");
  return Math.round((what === "ndjson" ? records : N) / s);
}

const dir = await makeData();
try {
  process.stderr.write("http: in place and piscina …");
  const pool = new Piscina({
    filename: new URL("./render-task.js", import.meta.url).href,
    maxThreads: 1,
    atomics: "disabled",
  });
  const render = { ndjson: 0, bars: 0 };
  const pooled = { ndjson: 0, bars: 0 };
  // Alternating rounds, best of each after the first (JIT warm-up on both threads).
  for (let round = 0; round < (values.smoke ? 2 : 4); round++) {
    for (const what of ["ndjson", "bars"] as const) {
      const here = await inPlace(dir, what);
      const there = await onPool(pool, dir, what);
      if (round > 0) {
        render[what] = Math.max(render[what], here);
        pooled[what] = Math.max(pooled[what], there);
      }
    }
  }
  await pool.destroy();
  process.stderr.write(" daemon …");
  const daemon = await spawnDaemon(["--port", "0", "--data", dir, "--workers", "1", "--bars", "none"]);
  let http: Record<string, { rate: number; n: number; mb: number }>;
  try {
    const port = daemon.port;
    const best = async (path: string, records: string) => {
      const x = await fetchRate(port, path, records);
      const y = await fetchRate(port, path, records);
      return x.rate >= y.rate ? x : y;
    };
    await fetchRate(port, `/v1/history?symbols=*&from=1&to=${N}`, lines); // warm-up
    http = {
      ndjson: await best(`/v1/history?symbols=*&from=1&to=${N}`, lines),
      csv: await best(`/v1/history?symbols=*&from=1&to=${N}&format=csv`, lines), // the header counts one
      json: await best(`/v1/history?symbols=*&from=1&to=${N}&format=json`, jsonRecords),
      oneSymbol: await best(`/v1/history?symbols=SYM7&from=1&to=${N}`, lines),
      bars1m: await best(`/v1/bars?symbols=*&interval=1m&from=1&to=${N}`, lines),
    };
  } finally {
    await daemon.stop();
  }
  process.stderr.write(" done\n");
  const machine = machineNow();
  const result = { bench: "http", machine, frames: N, render, pooled, http };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `http — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, load ${machine.load.toFixed(1)}, ${N} frames (3 trades : 1 quote, 50 symbols)`,
    );
    console.log(
      `GET /v1/history ndjson, one client: ${http.ndjson.rate} ticks/s (${http.ndjson.mb.toFixed(0)} MB); baseline rendering in this process, no HTTP: ${render.ndjson} ticks/s → ${Math.round((http.ndjson.rate / render.ndjson) * 100) / 100}`,
    );
    console.log(
      `GET /v1/history csv: ${http.csv.rate} ticks/s; json: ${http.json.rate} ticks/s; one symbol of 50: ${http.oneSymbol.rate} ticks/s of it`,
    );
    const barSeconds = http.bars1m.n / http.bars1m.rate;
    console.log(
      `GET /v1/bars 1m from all ${N * 0.75} trades: ${http.bars1m.n} bars in ${barSeconds.toFixed(2)} s (${Math.round((N * 0.75) / barSeconds)} trades/s)`,
    );
    console.log(
      `rendering placement, ndjson: in place ${render.ndjson} ticks/s, piscina thread ${pooled.ndjson} ticks/s → pool / in place ${Math.round((pooled.ndjson / render.ndjson) * 100) / 100}`,
    );
    console.log(
      `rendering placement, 1m bars: in place ${render.bars} trades/s, piscina thread ${pooled.bars} trades/s → pool / in place ${Math.round((pooled.bars / render.bars) * 100) / 100}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
