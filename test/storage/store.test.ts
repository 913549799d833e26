import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { frameSeq, instrumentIdOf } from "../../src/frame/codec.js";
import { Indexer } from "../../src/storage/indexer.js";
import { applyRetention } from "../../src/storage/retention.js";
import { Store } from "../../src/storage/store/store.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { collect, makeFrames, tempDir, tsOf } from "./helpers.js";

const SEED = Number(process.env.FC_SEED ?? 20261123);
/** XCOL collides with AAPL's instrument id: readers must tell them apart by symbol bytes. */
export const STORE_SYMBOLS = ["AAPL", "MSFT", "GOOG", "XCOL", "TSLA"];
export const collidingId = (s: string) => instrumentIdOf(s === "XCOL" ? "AAPL" : s);
const TS_STEP = 137_000n; // ~7 frames per 1 ms bucket
const N = 3000;

async function readSeq(
  store: Store,
  from: number,
  to: number,
): Promise<{ seqs: number[]; frames: Uint8Array[] }> {
  const seqs: number[] = [];
  const frames: Uint8Array[] = [];
  for await (const b of store.readBySeq(from, to)) collect(b, seqs, frames, true);
  return { seqs, frames };
}

async function readSym(store: Store, symbol: string, from: bigint, to: bigint): Promise<Uint8Array[]> {
  const seqs: number[] = [];
  const frames: Uint8Array[] = [];
  for await (const b of store.readBySymbolTime(symbol, from, to, collidingId(symbol))) {
    collect(b, seqs, frames, false);
    assert.equal(b.firstSeq, frameSeq(b.bytes, b.offsets[0]));
  }
  return frames;
}

async function setup(dir: string) {
  const frames = makeFrames(1, N, 0, STORE_SYMBOLS, TS_STEP, collidingId);
  const walDir = join(dir, "wal");
  const { wal } = await Wal.open({ dir: walDir, segmentBytes: 64 * 1024 });
  for (let i = 0; i < N; i++) {
    wal.append(frames[i], i + 1);
    if (i % 41 === 40) wal.write();
  }
  await wal.flush();
  const store = await Store.open({ dir: join(dir, "lsm"), blockBytes: 1024, bucketMs: 1 });
  const indexer = new Indexer(store, { walDir, maxBatchFrames: 97, limitSeq: () => wal.durableSeq });
  indexer.start();
  await indexer.waitFor(N);
  await indexer.stop();
  return { frames, wal, walDir, store };
}

test("range reads by seq and by symbol × time equal a brute-force filter of what was written", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { frames, wal, store } = await setup(dir);
    assert.equal(store.checkpoint, N);
    assert.deepEqual(await readSeq(store, 1, N), { seqs: frames.map((_, i) => i + 1), frames });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: N + 5 }),
        fc.integer({ min: 0, max: N + 5 }),
        async (a, b) => {
          const got = await readSeq(store, a, b);
          const lo = Math.max(a, 1);
          const hi = Math.min(b, N);
          const seqs = hi >= lo ? Array.from({ length: hi - lo + 1 }, (_, i) => lo + i) : [];
          assert.deepEqual(got.seqs, seqs);
          assert.deepEqual(
            got.frames,
            seqs.map((s) => frames[s - 1]),
          );
        },
      ),
      { numRuns: 60, seed: SEED },
    );
    const tsArb = fc.oneof(
      fc.integer({ min: -3, max: N + 3 }).map((s) => tsOf(s, TS_STEP)),
      fc
        .tuple(fc.integer({ min: 0, max: N }), fc.integer({ min: -2, max: 2 }))
        .map(([s, d]) => tsOf(s, TS_STEP) + BigInt(d)),
      fc.bigInt({ min: tsOf(0, TS_STEP), max: tsOf(N + 1, TS_STEP) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...STORE_SYMBOLS, "NONE"), tsArb, tsArb, async (symbol, from, to) => {
        const got = await readSym(store, symbol, from, to);
        const want: Uint8Array[] = [];
        for (let s = 1; s <= N; s++) {
          const ts = tsOf(s, TS_STEP);
          if (STORE_SYMBOLS[s % STORE_SYMBOLS.length] === symbol && ts >= from && ts <= to)
            want.push(frames[s - 1]);
        }
        assert.deepEqual(got, want);
      }),
      { numRuns: 120, seed: SEED },
    );
    await store.close();
    await wal.close();
  } finally {
    cleanup();
  }
});

test("retention removes a WAL segment only when the checkpoint covers it, and old store blocks by age", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal, store, frames } = await setup(dir);
    const segs = wal.segments();
    assert.ok(segs.length >= 3);
    // Pretend the store is behind: nothing may go.
    const behind = {
      checkpoint: segs[0].lastSeq - 1,
      refreshCheckpoint: async () => segs[0].lastSeq - 1,
    } as Store;
    const held = await applyRetention(wal, behind, { walMaxBytes: 0 });
    assert.deepEqual(held.walSegmentsRemoved, []);
    assert.equal(held.walHeldByCheckpoint, true);
    // A replicating leader holds what its stream lacks, however far the store is.
    const unreplicated = await applyRetention(wal, store, {
      walMaxBytes: 0,
      walKeepAfterSeq: () => segs[0].lastSeq - 1,
    });
    assert.deepEqual(unreplicated.walSegmentsRemoved, []);
    assert.equal(unreplicated.walHeldByCheckpoint, true);
    const r = await applyRetention(wal, store, { walMaxBytes: 0 });
    assert.equal(r.walSegmentsRemoved.length, segs.length - 1, "every sealed segment; the active one stays");
    // Store by age: everything older than the ts of seq 1500.
    const cutoffMs = Number(tsOf(1500, TS_STEP) / 1_000_000n);
    const sr = await applyRetention(wal, store, { storeMaxAgeMs: 0, nowMs: () => cutoffMs });
    assert.ok(sr.storeSeqBlocksRemoved > 0 && sr.storeTimeBlocksRemoved > 0);
    const first = await store.firstSeq();
    assert.ok(first > 1 && first <= 1500, `first=${first}`);
    const rest = await readSeq(store, 0, N);
    assert.equal(rest.seqs[0], first);
    assert.deepEqual(rest.frames, frames.slice(first - 1));
    await store.close();
    await wal.close();
  } finally {
    cleanup();
  }
});

test("rollbackTo forgets every seq above the cut, and re-indexing restores the same store", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { frames, wal, walDir, store } = await setup(dir);
    for (const cut of [2900, 1234, 1]) {
      await store.rollbackTo(cut);
      assert.equal(store.checkpoint, cut);
      const got = await readSeq(store, 0, N + 10);
      assert.deepEqual(got.frames, frames.slice(0, cut));
      for (const symbol of STORE_SYMBOLS) {
        const want = frames.filter(
          (_, i) => i + 1 <= cut && STORE_SYMBOLS[(i + 1) % STORE_SYMBOLS.length] === symbol,
        );
        assert.deepEqual(
          await readSym(store, symbol, 0n, 2n ** 63n - 1n),
          want,
          `${symbol} after rollbackTo(${cut})`,
        );
      }
    }
    const indexer = new Indexer(store, { walDir, maxBatchFrames: 500, limitSeq: () => wal.durableSeq });
    indexer.start();
    await indexer.waitFor(N);
    await indexer.stop();
    assert.deepEqual((await readSeq(store, 0, N)).frames, frames);
    for (const symbol of STORE_SYMBOLS) {
      const want = frames.filter((_, i) => STORE_SYMBOLS[(i + 1) % STORE_SYMBOLS.length] === symbol);
      assert.deepEqual(await readSym(store, symbol, 0n, 2n ** 63n - 1n), want);
    }
    await store.close();
    await wal.close();
  } finally {
    cleanup();
  }
});

test("skip moves the checkpoint past seqs the WAL cannot give, with no frame: reads go around them", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { frames, wal, store } = await setup(dir);
    await assert.rejects(store.skip(N + 2, N + 10), { code: "ERR_WAL_SEQ" }, "only from checkpoint + 1");
    await store.skip(N + 1, N + 10);
    assert.equal(store.checkpoint, N + 10);
    const more = makeFrames(N + 11, N + 20, 0, STORE_SYMBOLS);
    await store.index({
      bytes: Buffer.concat(more),
      offsets: Int32Array.from(more.map((_, i) => more.slice(0, i).reduce((n, f) => n + f.length, 0))),
      count: more.length,
      firstSeq: N + 11,
      lastSeq: N + 20,
    });
    const got = await readSeq(store, N - 5, N + 20);
    assert.deepEqual(got.frames, [...frames.slice(N - 6), ...more], "no frame for the skipped seqs");
    await store.close();
    await wal.close();
  } finally {
    cleanup();
  }
});

test("a worker thread opens the same store while the main thread holds it (multithreading default)", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal, store } = await setup(dir);
    const storeUrl = new URL("../../src/storage/store/store.js", import.meta.url).href;
    const { Worker } = await import("node:worker_threads");
    const code = `import(${JSON.stringify(storeUrl)}).then(async ({ Store }) => {
      const { parentPort, workerData } = await import("node:worker_threads");
      const s = await Store.open(workerData);
      let n = 0;
      for await (const b of s.readBySeq(1, 1e9)) n += b.count;
      await s.close();
      parentPort.postMessage(n);
    });`;
    const w = new Worker(code, { eval: true, workerData: join(dir, "lsm") });
    const n = await new Promise<number>((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", reject);
    });
    assert.equal(n, N);
    await store.close();
    await wal.close();
  } finally {
    cleanup();
  }
});
