/**
 * Recovery benchmark: after a kill -9 with N MB of WAL not yet indexed, the time until the restarted daemon
 * answers /healthz 200 (against the same daemon on an empty data dir: the baseline is process start-up)
 * and until its background indexer has caught up; then snapshot create, verify and restore throughput of
 * that data dir, each against `fs.cp` (recursive copy) of the same bytes in the same run.
 *
 *   node dist/bench/recovery/recovery.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * `--sizes`: MB of WAL per scenario. `--duration`: longest wait (s) for the indexer to catch up; past it
 * the scenario reports `indexedS: null`. `--smoke`: one 4 MB scenario, for CI. Data lives under the OS
 * temp dir (a real disk here, not tmpfs); files are mostly in the page cache, as on a restarted process
 * (not a rebooted machine): the figures are CPU and syscall costs more than disk speed.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { spawnDaemon } from "../../src/daemon/child-process.js";
import { FrameEncoder, stampFrame, type Tick } from "../../src/frame/codec.js";
import { createSnapshot, restoreSnapshot, verifySnapshot } from "../../src/recovery/index.js";
import { Wal } from "../../src/storage/index.js";
import { RECOVERY } from "../catalog.js";
import { benchFlags } from "../flags.js";

const MB = 1e6;
const BASE_TS = 1_763_900_000_000_000_000n;

interface Options {
  json: boolean;
  smoke: boolean;
  sizesMb: number[];
  durationS: number;
}

function parseOptions(): Options {
  const flags = benchFlags(RECOVERY);
  return {
    json: flags.json,
    smoke: flags.smoke,
    sizesMb: flags.smoke ? [4] : flags.sizes,
    durationS: flags.duration,
  };
}

/** Writes `mb` MB of trade frames straight into `<data>/wal` with the Wal class (no store: none indexed). */
async function writeWal(data: string, mb: number): Promise<{ frames: number; bytes: number }> {
  const { wal } = await Wal.open({ dir: join(data, "wal"), fsync: "os" });
  const enc = new FrameEncoder();
  // 64 distinct frames, re-stamped with each seq: encoding every frame would dominate the set-up time.
  const frames = Array.from({ length: 64 }, (_, i) => {
    const tick: Tick = { type: "trade", symbol: `SYM${i}`, price: 100 + i, size: i + 1 };
    const bytes = enc.encode(tick, 0n, BASE_TS).slice();
    return { bytes, view: new DataView(bytes.buffer) };
  });
  let seq = 0;
  let bytes = 0;
  while (bytes < mb * MB) {
    const f = frames[seq % frames.length];
    seq++;
    stampFrame(f.bytes, f.view, 0, seq, BASE_TS + BigInt(seq) * 1000n);
    wal.append(f.bytes, seq);
    bytes += f.bytes.length + 8;
    if (seq % 4096 === 0) wal.write();
  }
  await wal.close();
  return { frames: seq, bytes };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> } | null> {
  try {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return null; // not listening yet
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the daemon on `data` and returns seconds from spawn to the first /healthz 200, and (when
 * `waitIndexed`) to the indexer's lag reaching 0; the daemon is left running for the caller to kill or stop.
 */
async function timeStart(data: string, waitIndexed: boolean, maxS: number) {
  const port = await freePort();
  const t0 = performance.now();
  const starting = spawnDaemon(["--data", data, "--port", String(port), "--workers", "1"]);
  let readyS = Number.NaN;
  let startingAnswers = 0; // 503 "starting" answers seen before the 200
  while (Number.isNaN(readyS)) {
    const r = await getJson(`http://127.0.0.1:${port}/healthz`);
    if (r?.status === 200) readyS = (performance.now() - t0) / 1000;
    else {
      if (r?.body.status === "starting") startingAnswers++;
      await sleep(5);
    }
  }
  const daemon = await starting;
  let indexedS: number | null = null;
  if (waitIndexed) {
    while (performance.now() - t0 < maxS * 1000) {
      const s = await getJson(`http://127.0.0.1:${port}/v1/stats`);
      if ((s?.body.indexing as { lag: number } | undefined)?.lag === 0) {
        indexedS = (performance.now() - t0) / 1000;
        break;
      }
      await sleep(50);
    }
  }
  const recovered = daemon.logs.find((l) => l.msg === "recovered") as { ms: number; unindexed: number };
  return {
    daemon,
    readyS,
    startingAnswers,
    indexedS,
    recoverMs: recovered.ms,
    unindexed: recovered.unindexed,
  };
}

/** Seconds of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function scenario(root: string, mb: number, o: Options) {
  const data = join(root, `data-${mb}`);
  const written = await writeWal(data, mb);
  // The crash: a daemon starts indexing that WAL and is killed -9 right after it serves.
  const first = await timeStart(data, false, o.durationS);
  await first.daemon.kill();
  const start = await timeStart(data, true, o.durationS);
  await start.daemon.stop();

  // Snapshot create / verify / restore of the whole data dir (WAL + the store the daemon built), each
  // against fs.cp of the same bytes.
  const snap = join(root, `snap-${mb}`);
  let bytes = 0;
  const createS = await timed(async () => {
    const r = await createSnapshot({ data, out: snap });
    bytes = r.manifest.files.reduce((n, f) => n + f.bytes, 0);
  });
  const cpDataS = await timed(() => cp(data, join(root, `cp-data-${mb}`), { recursive: true }));
  const verifyS = await timed(() => verifySnapshot(snap));
  const restoreS = await timed(() => restoreSnapshot(snap, join(root, `restored-${mb}`)));
  const cpSnapS = await timed(() => cp(snap, join(root, `cp-snap-${mb}`), { recursive: true }));
  for (const d of [data, snap, `cp-data-${mb}`, `restored-${mb}`, `cp-snap-${mb}`]) {
    await rm(d.startsWith("/") ? d : join(root, d), { recursive: true, force: true });
  }
  const mbps = (s: number) => Math.round(bytes / MB / s);
  return {
    name: `recover/${mb}MB`,
    walMb: Math.round(written.bytes / MB),
    walFrames: written.frames,
    unindexedAtRestart: start.unindexed,
    recoverMs: start.recoverMs,
    readyS: round(start.readyS),
    startingAnswers: start.startingAnswers,
    indexedS: start.indexedS === null ? null : round(start.indexedS),
    snapshotMb: Math.round(bytes / MB),
    createMbPerS: mbps(createS),
    verifyMbPerS: mbps(verifyS),
    restoreMbPerS: mbps(restoreS),
    cpMbPerS: mbps(cpDataS),
    cpSnapshotMbPerS: mbps(cpSnapS),
    createRatioToCp: round(cpDataS / createS),
    restoreRatioToCp: round(cpSnapS / restoreS),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

async function main(): Promise<void> {
  const o = parseOptions();
  const root = await mkdtemp(join(tmpdir(), "tickring-recovery-bench-"));
  try {
    // Baseline: the same daemon on an empty data dir: what start-up costs with nothing to recover.
    const empty = await timeStart(join(root, "empty"), false, o.durationS);
    await empty.daemon.stop();
    const baselineReadyS = round(empty.readyS);
    const scenarios = [];
    for (const mb of o.sizesMb) {
      const r = await scenario(root, mb, o);
      scenarios.push({ ...r, readyRatioToEmpty: round(r.readyS / baselineReadyS) });
      if (!o.json) console.log(JSON.stringify(scenarios[scenarios.length - 1]));
    }
    const report = {
      benchmark: "recovery",
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", node: process.version },
      settings: { sizesMb: o.sizesMb, durationS: o.durationS, smoke: o.smoke },
      baseline: { emptyReadyS: baselineReadyS },
      scenarios,
    };
    if (o.json) console.log(JSON.stringify(report));
    else console.log(`baseline: ready on an empty data dir in ${baselineReadyS} s`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
