/**
 * Storage benchmark: the WAL against raw `fs.writeSync` of the same bytes in 1 MiB calls with the same fsync
 * cadence, per frame size and fsync policy; fdatasync latency; the indexer; range reads from the store; WAL
 * replay. Everything runs in this process, on real files under the OS temp dir (ext4 here, not tmpfs).
 *
 *   node dist/bench/storage/storage.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * WAL frames are synthetic size-prefixed frames of exactly 104, 504 and 4096 bytes (100 B and 500 B rounded
 * up to the 8-byte frame alignment): the WAL reads nothing but the size prefix. The store scenarios use real
 * trade frames (144 B) over 100 symbols, since blocks are cut by instrument id and ts_recv.
 */
import { closeSync, fdatasync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import hdr from "hdr-histogram-js";
import { FrameEncoder, frameLength } from "../../src/frame/codec.js";
import {
  type FsyncPolicy,
  Indexer,
  openWalReader,
  Store,
  Wal,
  WAL_DEFAULTS,
} from "../../src/storage/index.js";
import { RECORD_HEADER_LENGTH } from "../../src/storage/wal/record-layout.js";
import { STORAGE } from "../catalog.js";
import { benchFlags } from "../flags.js";

interface Options {
  durationS: number;
  json: boolean;
  smoke: boolean;
  group: number;
  storeFrames: number;
  only: RegExp;
}

function parseOptions(): Options {
  const flags = benchFlags(STORAGE);
  return {
    durationS: flags.smoke ? 0.05 : flags.duration,
    json: flags.json,
    smoke: flags.smoke,
    group: flags.group,
    storeFrames: flags.smoke ? 5000 : flags.frames,
    only: flags.only,
  };
}

/** One WAL scenario against its raw baseline. */
interface WalResult {
  name: string;
  frameBytes: number;
  policy: FsyncPolicy;
  frames: number;
  seconds: number;
  framesPerSecond: number;
  /** Record bytes (header + frame) per second, MB = 1e6 bytes. */
  mbPerSecond: number;
  rawMbPerSecond: number;
  /** WAL MB/s ÷ raw MB/s. */
  ratioToRaw: number;
  fsyncs: number;
  rawFsyncs: number;
  fsyncP50Us: number;
  fsyncP99Us: number;
}

const SLICE_MS = 1;
const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/** A pool of synthetic size-prefixed frames of exactly `bytes` bytes. */
function syntheticFrames(bytes: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const f = new Uint8Array(bytes);
    new DataView(f.buffer).setUint32(0, bytes - 4, true);
    for (let j = 4; j < bytes; j++) f[j] = (i * 31 + j) & 0xff;
    out.push(f);
  }
  return out;
}

/**
 * Decides when an fdatasync starts, for the raw baseline, by the WAL's rules: `always` keeps one in flight
 * back to back, `batch` starts one when `batchRecords` records are unsynced or `batchMs` has passed since the
 * first unsynced write, `os` never.
 */
class RawSyncer {
  inFlight = false;
  count = 0;
  private unsynced = 0;
  private firstUnsyncedMs = 0;
  constructor(
    private readonly fd: number,
    private readonly policy: FsyncPolicy,
  ) {}

  wrote(records: number): void {
    if (this.policy === "os") return;
    if (this.unsynced === 0) this.firstUnsyncedMs = performance.now();
    this.unsynced += records;
    this.maybeSync();
  }

  maybeSync(): void {
    if (this.inFlight || this.unsynced === 0 || this.policy === "os") return;
    const due =
      this.policy === "always" ||
      this.unsynced >= WAL_DEFAULTS.batchRecords ||
      performance.now() - this.firstUnsyncedMs >= WAL_DEFAULTS.batchMs;
    if (!due) return;
    this.inFlight = true;
    this.unsynced = 0;
    this.count++;
    fdatasync(this.fd, () => {
      this.inFlight = false;
      this.maybeSync();
    });
  }

  async drain(): Promise<void> {
    while (this.inFlight) await yieldLoop();
  }
}

/** Raw baseline: the same record bytes in 1 MiB `writeSync` calls, fdatasync by the WAL's rules. */
async function runRaw(dir: string, policy: FsyncPolicy, frameBytes: number, durationS: number) {
  const file = join(dir, "raw.bin");
  const fd = openSync(file, "w");
  const recordBytes = frameBytes + RECORD_HEADER_LENGTH;
  const chunk = Buffer.alloc(1 << 20, 7);
  const recordsPerChunk = chunk.length / recordBytes;
  const syncer = new RawSyncer(fd, policy);
  let bytes = 0;
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  while (performance.now() < end) {
    const sliceEnd = performance.now() + SLICE_MS;
    while (performance.now() < sliceEnd) {
      writeSync(fd, chunk, 0, chunk.length, bytes);
      bytes += chunk.length;
      syncer.wrote(recordsPerChunk);
    }
    syncer.maybeSync();
    await yieldLoop();
  }
  await syncer.drain();
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  rmSync(file);
  return { bytes, seconds, fsyncs: syncer.count };
}

/** The WAL: groups of `group` appends, one `write()` each, yielding to the event loop every ms. */
async function runWal(
  dir: string,
  policy: FsyncPolicy,
  frameBytes: number,
  durationS: number,
  group: number,
  hist: ReturnType<typeof newHistogram>,
) {
  const walDir = join(dir, `wal-${frameBytes}-${policy}`);
  // Only the fdatasyncs of the run itself: not the one close() does (all `os` ever has).
  let recording = true;
  const { wal } = await Wal.open({
    dir: walDir,
    fsync: policy,
    onFsync: (ns) => {
      if (recording) hist.recordValue(Math.max(1, ns));
    },
  });
  const pool = syntheticFrames(frameBytes, 256);
  let seq = 0;
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  while (performance.now() < end) {
    const sliceEnd = performance.now() + SLICE_MS;
    while (performance.now() < sliceEnd) {
      for (let i = 0; i < group; i++) {
        seq++;
        wal.append(pool[seq & 255], seq);
      }
      wal.write();
    }
    await yieldLoop();
  }
  // Everything appended must be durable under the policy before the clock stops (`os`: written is enough).
  if (policy !== "os") await wal.flush();
  const seconds = (performance.now() - t0) / 1000;
  const fsyncs = wal.fsyncStats.count;
  recording = false;
  await wal.close();
  rmSync(walDir, { recursive: true, force: true });
  return { bytes: seq * (frameBytes + RECORD_HEADER_LENGTH), frames: seq, seconds, fsyncs };
}

/**
 * WAL against raw, in ABBA order (raw, WAL, WAL, raw; half the duration each) so neither side inherits the
 * other's dirty-page writeback more often.
 */
async function benchWal(
  dir: string,
  policy: FsyncPolicy,
  frameBytes: number,
  o: Options,
): Promise<WalResult> {
  const hist = newHistogram();
  const half = o.durationS / 2;
  const r1 = await runRaw(dir, policy, frameBytes, half);
  const w1 = await runWal(dir, policy, frameBytes, half, o.group, hist);
  const w2 = await runWal(dir, policy, frameBytes, half, o.group, hist);
  const r2 = await runRaw(dir, policy, frameBytes, half);
  const seconds = w1.seconds + w2.seconds;
  const frames = w1.frames + w2.frames;
  const mbPerSecond = (w1.bytes + w2.bytes) / seconds / 1e6;
  const rawMbPerSecond = (r1.bytes + r2.bytes) / (r1.seconds + r2.seconds) / 1e6;
  return {
    name: `wal/${frameBytes}/${policy}`,
    frameBytes,
    policy,
    frames,
    seconds,
    framesPerSecond: frames / seconds,
    mbPerSecond,
    rawMbPerSecond,
    ratioToRaw: mbPerSecond / rawMbPerSecond,
    fsyncs: w1.fsyncs + w2.fsyncs,
    rawFsyncs: r1.fsyncs + r2.fsyncs,
    fsyncP50Us: hist.totalCount > 0 ? hist.getValueAtPercentile(50) / 1000 : 0,
    fsyncP99Us: hist.totalCount > 0 ? hist.getValueAtPercentile(99) / 1000 : 0,
  };
}

/** fdatasync latency under `batch` at a steady 100K frames/s of 104 B: the figure an ingest ack waits for. */
interface PacedResult {
  name: string;
  framesPerSecond: number;
  fsyncs: number;
  fsyncP50Us: number;
  fsyncP99Us: number;
  /** append → durable (onDurable) latency of the first frame of each group. */
  ackP50Us: number;
  ackP99Us: number;
}

const PACED_RATE = 100_000;

async function benchPaced(dir: string, o: Options): Promise<PacedResult> {
  const walDir = join(dir, "wal-paced");
  const fsyncHist = newHistogram();
  const ackHist = newHistogram();
  const { wal } = await Wal.open({
    dir: walDir,
    fsync: "batch",
    onFsync: (ns) => fsyncHist.recordValue(Math.max(1, ns)),
  });
  // Pending acks: (seq, append time) of each group's first frame, in seq order.
  const ackSeq: number[] = [];
  const ackAt: number[] = [];
  let ackHead = 0;
  wal.onDurable((durable) => {
    const now = performance.now();
    while (ackHead < ackSeq.length && ackSeq[ackHead] <= durable) {
      ackHist.recordValue(Math.max(1, Math.round((now - ackAt[ackHead]) * 1e6)));
      ackHead++;
    }
  });
  const pool = syntheticFrames(104, 256);
  const perMs = PACED_RATE / 1000;
  let seq = 0;
  const t0 = performance.now();
  const end = t0 + o.durationS * 1000;
  for (let now = t0; now < end; now = performance.now()) {
    const due = Math.floor((now - t0) * perMs);
    if (due > seq) {
      ackSeq.push(seq + 1);
      ackAt.push(now);
      while (seq < due) {
        seq++;
        wal.append(pool[seq & 255], seq);
      }
      wal.write();
    }
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  await wal.close();
  const seconds = (performance.now() - t0) / 1000;
  rmSync(walDir, { recursive: true, force: true });
  return {
    name: "wal/104/batch-paced-100k",
    framesPerSecond: seq / seconds,
    fsyncs: wal.fsyncStats.count,
    fsyncP50Us: fsyncHist.getValueAtPercentile(50) / 1000,
    fsyncP99Us: fsyncHist.getValueAtPercentile(99) / 1000,
    ackP50Us: ackHist.getValueAtPercentile(50) / 1000,
    ackP99Us: ackHist.getValueAtPercentile(99) / 1000,
  };
}

function newHistogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

interface RateResult {
  name: string;
  frames: number;
  seconds: number;
  framesPerSecond: number;
  mbPerSecond: number;
}

function rate(name: string, frames: number, bytes: number, ms: number): RateResult {
  const seconds = ms / 1000;
  return { name, frames, seconds, framesPerSecond: frames / seconds, mbPerSecond: bytes / seconds / 1e6 };
}

const SYMBOL_COUNT = 100;
const TS0 = 1_763_900_000_000_000_000n;
/** 1 µs between frames: 500K frames span 0.5 s, so the symbol reads cross buckets only with a small bucket. */
const TS_STEP = 1000n;

async function benchStore(dir: string, o: Options): Promise<RateResult[]> {
  const walDir = join(dir, "store-wal");
  const n = o.storeFrames;
  const symbols = Array.from({ length: SYMBOL_COUNT }, (_, i) => `SYM${String(i).padStart(3, "0")}`);
  const { wal } = await Wal.open({ dir: walDir, fsync: "os" });
  const enc = new FrameEncoder();
  let frameBytes = 0;
  for (let s = 1; s <= n; s++) {
    const f = enc.encode(
      {
        type: "trade",
        symbol: symbols[s % SYMBOL_COUNT],
        price: 100 + (s % 50),
        size: s,
        aggressor: "buy",
        tradeId: BigInt(s),
      },
      BigInt(s),
      TS0 + BigInt(s) * TS_STEP,
    );
    frameBytes += f.length;
    wal.append(f, s);
    if (s % 256 === 0) wal.write();
  }
  await wal.close();
  const out: RateResult[] = [];

  // WAL replay, the sync fast path (page cache).
  if (o.only.test("replay")) {
    const t = performance.now();
    const r = openWalReader(walDir, 1);
    let count = 0;
    let bytes = 0;
    for (let b = r.nextSync(); b !== null; b = r.nextSync()) {
      for (let i = 0; i < b.count; i++) bytes += frameLength(b.bytes, b.offsets[i]);
      count += b.count;
    }
    r.close();
    out.push(rate("wal-replay/sync", count, bytes, performance.now() - t));
  }

  // bucketMs 100 ms: the 0.5 s of data spans several buckets, as 30 s buckets do over hours.
  const store = await Store.open({ dir: join(dir, "lsm"), bucketMs: 100 });
  const t1 = performance.now();
  const indexer = new Indexer(store, { walDir });
  indexer.start();
  await indexer.waitFor(n);
  await indexer.stop();
  out.push(rate("indexer", n, frameBytes, performance.now() - t1));

  if (o.only.test("read")) {
    const t2 = performance.now();
    let count = 0;
    let bytes = 0;
    for await (const b of store.readBySeq(1, n)) {
      for (let i = 0; i < b.count; i++) bytes += frameLength(b.bytes, b.offsets[i]);
      count += b.count;
    }
    out.push(rate("read/seq", count, bytes, performance.now() - t2));

    // Each symbol over the middle 80% of the time span.
    const from = TS0 + (BigInt(n) * TS_STEP) / 10n;
    const to = TS0 + (BigInt(n) * TS_STEP * 9n) / 10n;
    const t3 = performance.now();
    count = 0;
    bytes = 0;
    for (const s of symbols) {
      for await (const b of store.readBySymbolTime(s, from, to)) {
        for (let i = 0; i < b.count; i++) bytes += frameLength(b.bytes, b.offsets[i]);
        count += b.count;
      }
    }
    out.push(rate("read/symbol-time", count, bytes, performance.now() - t3));
  }
  await store.close();
  return out;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : n.toFixed(0);
}

async function main(): Promise<void> {
  const o = parseOptions();
  const dir = mkdtempSync(join(tmpdir(), "tickring-storage-bench-"));
  const walResults: WalResult[] = [];
  let storeResults: RateResult[] = [];
  let paced: PacedResult | null = null;
  try {
    const sizes = o.smoke ? [104, 4096] : [104, 504, 4096];
    const policies: FsyncPolicy[] = ["batch", "always", "os"];
    for (const size of sizes) {
      for (const policy of policies) {
        if (!o.only.test(`wal/${size}/${policy}`)) continue;
        const r = await benchWal(dir, policy, size, o);
        walResults.push(r);
        if (!o.json) {
          console.log(
            `${r.name.padEnd(16)} ${fmt(r.framesPerSecond).padStart(7)} frames/s ${r.mbPerSecond.toFixed(0).padStart(5)} MB/s` +
              `  raw ${r.rawMbPerSecond.toFixed(0).padStart(5)} MB/s  ratio ${r.ratioToRaw.toFixed(2)}` +
              `  fsyncs ${r.fsyncs}/${r.rawFsyncs} raw  fdatasync p50 ${r.fsyncP50Us.toFixed(0)} µs p99 ${r.fsyncP99Us.toFixed(0)} µs`,
          );
        }
      }
    }
    if (o.only.test("wal/104/batch-paced")) {
      paced = await benchPaced(dir, o);
      if (!o.json) {
        console.log(
          `${paced.name} ${fmt(paced.framesPerSecond)} frames/s  fsyncs ${paced.fsyncs}  fdatasync p50 ${paced.fsyncP50Us.toFixed(0)} µs` +
            ` p99 ${paced.fsyncP99Us.toFixed(0)} µs  append→durable p50 ${paced.ackP50Us.toFixed(0)} µs p99 ${paced.ackP99Us.toFixed(0)} µs`,
        );
      }
    }
    if (o.only.test("indexer") || o.only.test("read") || o.only.test("replay")) {
      storeResults = await benchStore(dir, o);
      if (!o.json) {
        for (const r of storeResults) {
          console.log(
            `${r.name.padEnd(16)} ${fmt(r.framesPerSecond).padStart(7)} frames/s ${r.mbPerSecond.toFixed(0).padStart(5)} MB/s  (${r.frames} frames)`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = { nproc: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version };
  const settings = {
    durationS: o.durationS,
    group: o.group,
    storeFrames: o.storeFrames,
    smoke: o.smoke,
    tmpdir: tmpdir(),
  };
  if (o.json)
    console.log(
      JSON.stringify({
        benchmark: "storage",
        machine,
        settings,
        wal: walResults,
        paced,
        store: storeResults,
      }),
    );
}

await main();
