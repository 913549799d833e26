/**
 * Bars benchmark: what live bars (`--bars 1s,1m`) cost the single writer. The sequencer's ingest rate —
 * messages of frames encoded at the edge, stamped, appended to a real WAL and published to the ring, as
 * the daemon's writer does — with the bars thread reading the ring beside it and its due bars sequenced
 * back, against the same sequencer without it (the baseline), in alternating rounds (ABBA), for a feed of
 * trades only (every frame aggregated) and one of quotes.
 *
 * The figure is frames per CPU-second of the main thread (Linux's per-thread accounting in /proc): the
 * sequencer's own cost, which other jobs on a shared machine and the bars thread's own CPU do not blur.
 * The bars thread's CPU is reported beside it.
 *
 *   node dist/bench/bars/bars.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { BarThread } from "../../src/daemon/bar-thread.js";
import { FrameEncoder, type Tick } from "../../src/frame/codec.js";
import { createLogger } from "../../src/logger.js";
import { Sequencer } from "../../src/publisher/sequencer.js";
import { RingWriter } from "../../src/ring/writer.js";
import { Wal } from "../../src/storage/index.js";
import { allocateSharedState, STATUS_WRITTEN_SEQ } from "../../src/threads/shared-state.js";
import { BARS } from "../catalog.js";
import { benchFlags } from "../flags.js";
import { machine as machineNow } from "../machine.js";

const values = benchFlags(BARS);
const SECONDS = values.smoke ? 0.1 : values.duration;
const PER_MESSAGE = 200;
const SYMBOLS = 50;

/** One ingest message: `PER_MESSAGE` frames encoded with seq and ts_recv 0, as the ingest edge hands them over. */
function message(type: "trade" | "quote"): Uint8Array {
  const enc = new FrameEncoder();
  const parts: Uint8Array[] = [];
  for (let i = 0; i < PER_MESSAGE; i++) {
    const symbol = `SYM${i % SYMBOLS}`;
    const tick: Tick =
      type === "trade"
        ? { type, symbol, price: 100 + i / 100, size: 100, aggressor: "buy", tradeId: BigInt(i) }
        : { type, symbol, bidPrice: 100, bidSize: 100, askPrice: 100.01, askSize: 200 };
    parts.push(enc.encode(tick, 0n, 0n).slice());
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** CPU seconds (user + system) of the main thread so far, from /proc (10 ms resolution). */
function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Frames per main-thread CPU-second through the sequencer for `SECONDS` of wall time, with bars or without. */
async function run(
  msg: Uint8Array,
  bars: boolean,
): Promise<{ rate: number; barsEmitted: number; barCpu: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tickring-bars-bench-"));
  const walDir = join(dir, "wal");
  const { wal } = await Wal.open({ dir: walDir, fsync: "os", segmentBytes: 256 * 1024 * 1024 });
  const ring = RingWriter.allocate(64 * 1024 * 1024);
  const sequencer = new Sequencer(wal, ring, 0);
  // The written seq the bars thread reads, kept as the daemon's writer keeps it.
  const shared = allocateSharedState(0);
  const commit = () => {
    sequencer.commit();
    shared[STATUS_WRITTEN_SEQ] = wal.writtenSeq;
  };
  let barsEmitted = 0;
  const thread = bars
    ? new BarThread(
        {
          intervalsMs: [1000, 60_000],
          graceMs: 250,
          ring: ring.buffer,
          walDir,
          storeDir: join(dir, "store"),
          shared,
        },
        (ticks) => {
          sequencer.appendTicks(ticks);
          commit();
          barsEmitted += ticks.length;
        },
        createLogger("error"),
      )
    : undefined;
  // The thread is up (it has read its first ring position) before the clock starts.
  await new Promise((r) => setTimeout(r, 200));
  const frames = msg.slice();
  let n = 0;
  const cpu0 = mainThreadCpu();
  const process0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let slice = t0;
  for (;;) {
    frames.set(msg);
    sequencer.appendEncoded(frames, PER_MESSAGE);
    commit();
    n += PER_MESSAGE;
    const now = performance.now();
    if (now - slice > 5) {
      // Let the bars' messages (and the WAL's own work) in, as the daemon's event loop would.
      if (now > end) break;
      await yieldToLoop();
      slice = performance.now();
    }
  }
  const main = mainThreadCpu() - cpu0;
  const all = process.cpuUsage(process0);
  await thread?.stop();
  await wal.close();
  rmSync(dir, { recursive: true, force: true });
  return { rate: n / main, barsEmitted, barCpu: Math.max(0, (all.user + all.system) / 1e6 - main) };
}

const results: {
  feed: string;
  off: number;
  on: number;
  ratio: number;
  barsEmitted: number;
  barThreadCpuShare: number;
}[] = [];
for (const feed of ["trade", "quote"] as const) {
  const msg = message(feed);
  const off: number[] = [];
  const on: number[] = [];
  let barsEmitted = 0;
  let barCpu = 0;
  process.stderr.write(`bars: ${feed} …`);
  // ABBA, twice: drift in the machine's load falls on both sides alike.
  for (const withBars of [false, true, true, false, false, true, true, false]) {
    const r = await run(msg, withBars);
    (withBars ? on : off).push(r.rate);
    barsEmitted += r.barsEmitted;
    if (withBars) barCpu += r.barCpu;
  }
  process.stderr.write(" done\n");
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const offRate = Math.round(median(off));
  const onRate = Math.round(median(on));
  results.push({
    feed,
    off: offRate,
    on: onRate,
    ratio: Math.round((onRate / offRate) * 1000) / 1000,
    barsEmitted,
    // The bars thread's CPU over the four rounds with bars, per second of wall time.
    barThreadCpuShare: Math.round((barCpu / (4 * SECONDS)) * 100) / 100,
  });
}
const machine = machineNow();
if (values.json)
  console.log(JSON.stringify({ bench: "bars", machine, seconds: SECONDS, perMessage: PER_MESSAGE, results }));
else {
  console.log(
    `bars — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, load ${machine.load.toFixed(1)}, ${SECONDS}s rounds, ${PER_MESSAGE} frames per message, ${SYMBOLS} symbols`,
  );
  console.log(
    "feed   | bars off frames/main-CPU-s | bars on (1s,1m) | on ÷ off | bars emitted | bars thread CPU",
  );
  for (const r of results) {
    console.log(
      `${r.feed.padEnd(6)} | ${String(r.off).padStart(26)} | ${String(r.on).padStart(15)} | ${String(r.ratio).padStart(8)} | ${String(r.barsEmitted).padStart(12)} | ${r.barThreadCpuShare} core`,
    );
  }
}
