/**
 * Replay benchmark: historical replay at `speed:"max"` to one client, from the WAL and from the LevelDB
 * store, beside the raw speed of reading the same frames with the WAL reader in this process (the
 * baseline: what replay costs on top of reading); time to first frame for a `from` far in the past; and
 * the catch-up time of replay-then-live (`live:true`) from seq 1 while 100K ticks/s are ingested.
 *
 *   node dist/bench/replay/replay.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { spawnDaemon } from "../../src/daemon/child-process.js";
import { FrameEncoder, frameLength } from "../../src/frame/codec.js";
import { applyRetention, openWalReader, Store, Wal } from "../../src/storage/index.js";
import { REPLAY } from "../catalog.js";
import type { PublisherData } from "../e2e/publisher.worker.js";
import { benchFlags } from "../flags.js";
import { replayToDone } from "./replay-client.js";

const values = benchFlags(REPLAY);
const N = values.smoke ? 20_000 : values.frames;
const INGEST_RATE = values.smoke ? 10_000 : 100_000;
const SYMBOLS = Array.from({ length: 64 }, (_, i) => `SYM${i}`);

function progress(text: string): void {
  process.stderr.write(`replay: ${text}\n`);
}

/** A data dir with N quote frames in the WAL; `storeOnly` indexes them and drops all but the last WAL segment. */
async function makeData(storeOnly: boolean): Promise<{ dir: string; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tickring-replay-"));
  const { wal } = await Wal.open({ dir: join(dir, "wal"), fsync: "os", segmentBytes: 16 * 1024 * 1024 });
  const enc = new FrameEncoder();
  const t0 = 1_790_000_000_000_000_000n;
  let bytes = 0;
  for (let s = 1; s <= N; s++) {
    const f = enc.encode(
      { type: "quote", symbol: SYMBOLS[s % 64], bidPrice: 100, bidSize: s, askPrice: 100.02, askSize: 100 },
      BigInt(s),
      t0 + BigInt(s) * 10_000n,
    );
    bytes += f.length;
    wal.append(f, s);
    if (s % 4096 === 0) wal.write();
  }
  wal.write();
  await wal.flush();
  if (storeOnly) {
    const store = await Store.open({ dir: join(dir, "store") });
    const r = openWalReader(join(dir, "wal"), 1, { bufferBytes: 4 << 20 });
    for (let b = r.nextSync(); b !== null; b = r.nextSync()) await store.index(b);
    r.close();
    await applyRetention(wal, store, { walMaxBytes: 1 });
    await store.close();
  }
  await wal.close();
  return { dir, bytes };
}

/** The baseline: the same frames read with the WAL reader, in this process. */
function rawRead(dir: string): number {
  const start = performance.now();
  const r = openWalReader(join(dir, "wal"), 1, { bufferBytes: 4 << 20 });
  let n = 0;
  for (let b = r.nextSync(); b !== null; b = r.nextSync()) n += b.count;
  r.close();
  if (n !== N) throw new Error(`raw read found ${n} frames, expected ${N}`);
  return n / ((performance.now() - start) / 1000);
}

/** The per-frame work of a replay on the socket thread: copy the frame into a send buffer. */
function consume(bytes: Uint8Array, offsets: Int32Array, count: number, staging: Uint8Array): void {
  let used = 0;
  for (let i = 0; i < count; i++) {
    const off = offsets[i];
    const len = frameLength(bytes, off);
    if (used + len > staging.length) used = 0;
    staging.set(bytes.subarray(off, off + len), used);
    used += len;
  }
}

/**
 * Where replay reads should run: on the socket thread itself (sync WAL reads between socket events, what
 * tickring does), or on a piscina pool thread that streams batches over a MessagePort. Frames/s reaching
 * the consuming thread, each frame handled the same way.
 */
async function readPlacement(dir: string): Promise<{ inThread: number; pool: number }> {
  const staging = new Uint8Array(64 * 1024);
  let start = performance.now();
  const r = openWalReader(join(dir, "wal"), 1, { bufferBytes: 1 << 20 });
  let n = 0;
  for (let b = r.nextSync(); b !== null; b = r.nextSync()) {
    consume(b.bytes, b.offsets, b.count, staging);
    n += b.count;
  }
  r.close();
  const inThread = n / ((performance.now() - start) / 1000);

  const pool = new Piscina({
    filename: new URL("./read-task.js", import.meta.url).href,
    maxThreads: 1,
    atomics: "disabled",
  });
  const { port1, port2 } = new MessageChannel();
  start = performance.now();
  let m = 0;
  const received = new Promise<void>((resolve) => {
    port1.on("message", (msg: { bytes: ArrayBuffer; offsets: Int32Array } | null) => {
      if (msg === null) return resolve();
      consume(new Uint8Array(msg.bytes), msg.offsets, msg.offsets.length, staging);
      m += msg.offsets.length;
    });
  });
  await pool.run({ walDir: join(dir, "wal"), from: 1, port: port2 }, { transferList: [port2] });
  await received;
  const pooled = m / ((performance.now() - start) / 1000);
  port1.close();
  await pool.destroy();
  if (m !== N || n !== N) throw new Error(`read ${n} in-thread and ${m} pooled frames, expected ${N}`);
  return { inThread: Math.round(inThread), pool: Math.round(pooled) };
}

async function onDaemon<T>(dir: string, run: (port: number) => Promise<T>): Promise<T> {
  const daemon = await spawnDaemon(["--port", "0", "--data", dir, "--workers", "1"]);
  try {
    return await run(daemon.port);
  } finally {
    await daemon.stop();
  }
}

const results: Record<string, unknown> = {};
for (const source of ["wal", "store"] as const) {
  progress(`writing ${N} frames (${source})`);
  const { dir, bytes } = await makeData(source === "store");
  try {
    // In the store's dir the WAL keeps only its newest segment: the raw baseline reads the WAL's dir.
    const raw = source === "wal" ? Math.round(rawRead(dir)) : null;
    if (source === "wal") {
      progress("reads on the socket thread vs a piscina pool thread");
      results.readPlacement = await readPlacement(dir);
    }
    progress(`replaying from the ${source}`);
    const run = await onDaemon(dir, (port) => replayToDone(port, { from: { seq: 1 }, to: { seq: N } }));
    if (run.frames !== N) throw new Error(`replay delivered ${run.frames} frames, expected ${N}`);
    results[source] = {
      frames: N,
      megabytes: Math.round(bytes / 1e5) / 10,
      replayFramesPerSecond: run.framesPerSecond,
      firstFrameMs: run.firstFrameMs,
      rawWalReadFramesPerSecond: raw,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

progress(`replay-then-live from seq 1 under ${INGEST_RATE} ticks/s`);
{
  const { dir } = await makeData(false);
  try {
    results.catchUp = await onDaemon(dir, async (port) => {
      const endNs = String(process.hrtime.bigint() + 60_000_000_000n);
      const data: PublisherData = { ingest: `ws://127.0.0.1:${port}/v1/ingest`, rate: INGEST_RATE, endNs };
      const publisher = new Worker(new URL("../e2e/publisher.worker.js", import.meta.url), {
        workerData: data,
      });
      await new Promise((r) => setTimeout(r, 500));
      const run = await replayToDone(port, { from: { seq: 1 }, live: true });
      await publisher.terminate();
      return {
        backlogFrames: N,
        ingestPerSecond: INGEST_RATE,
        liveAfterMs: run.endMs,
        framesBeforeLive: run.frames,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version };
if (values.json) {
  console.log(JSON.stringify({ bench: "replay", machine, results }));
} else {
  const wal = results.wal as Record<string, number>;
  const store = results.store as Record<string, number>;
  const c = results.catchUp as Record<string, number>;
  console.log(
    `replay — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, ${N} frames of ~${Math.round((wal.megabytes * 1e6) / N)} B`,
  );
  console.log(
    `from the WAL:   ${wal.replayFramesPerSecond} frames/s to one client, first frame ${wal.firstFrameMs} ms`,
  );
  console.log(
    `  baseline (raw WAL read in-process): ${wal.rawWalReadFramesPerSecond} frames/s → ratio ${Math.round((wal.replayFramesPerSecond / wal.rawWalReadFramesPerSecond) * 100) / 100}`,
  );
  const rp = results.readPlacement as { inThread: number; pool: number };
  console.log(
    `  reads on the socket thread: ${rp.inThread} frames/s; on a piscina thread + MessagePort: ${rp.pool} frames/s → pool / in-thread ${Math.round((rp.pool / rp.inThread) * 100) / 100}`,
  );
  console.log(
    `from the store: ${store.replayFramesPerSecond} frames/s to one client, first frame ${store.firstFrameMs} ms`,
  );
  console.log(
    `replay-then-live: ${c.backlogFrames} frames behind under ${c.ingestPerSecond} ticks/s → live after ${c.liveAfterMs} ms (${c.framesBeforeLive} frames replayed)`,
  );
}
