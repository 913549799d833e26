import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { frameLength } from "../../src/frame/codec.js";
import { applyRetention, listSegments, openWalReader, Store, Wal } from "../../src/storage/index.js";
import { HistoryReader, type HistorySources, seqAtTime } from "../../src/subscriber/history.js";
import { makeFrames, tempDir, tsOf } from "../storage/helpers.js";

const N = 3000;
const frames = makeFrames(1, N, 4);
const tmp = tempDir("tickring-history-");
const walDir = join(tmp.dir, "wal");
let store: Store;
let sources: HistorySources;

before(async () => {
  // Small segments, every frame indexed, then retention keeps only the newest ~100 KB of WAL: the
  // first seqs exist only in the store, the rest in both.
  const { wal } = await Wal.open({ dir: walDir, fsync: "os", segmentBytes: 32 * 1024 });
  for (const [i, f] of frames.entries()) wal.append(f, i + 1);
  wal.write();
  await wal.flush();
  store = await Store.open({ dir: join(tmp.dir, "store") });
  const r = openWalReader(walDir, 1);
  for (let b = r.nextSync(); b !== null; b = r.nextSync()) await store.index(b);
  r.close();
  const report = await applyRetention(wal, store, { walMaxBytes: 100 * 1024 });
  assert.ok(report.walSegmentsRemoved.length > 0, "retention removed WAL segments");
  await wal.close();
  sources = { walDir, store: async () => store };
});

after(async () => {
  await store.close();
  tmp.cleanup();
});

async function readRange(from: number, to: number): Promise<Uint8Array[]> {
  const reader = new HistoryReader(sources, from);
  const out: Uint8Array[] = [];
  try {
    for (let b = await reader.read(to); b !== null; b = await reader.read(to)) {
      for (let i = 0; i < b.count; i++) {
        const off = b.offsets[i];
        out.push(new Uint8Array(b.bytes.subarray(off, off + frameLength(b.bytes, off))));
      }
    }
  } finally {
    reader.close();
  }
  return out;
}

test("history reads any seq range across the store/WAL boundary, byte for byte", async () => {
  const firstWal = listSegments(walDir)[0].firstSeq;
  assert.ok(firstWal > 1 && firstWal < N, `the boundary (${firstWal}) is inside the data`);
  assert.deepEqual(await readRange(1, N), frames);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.integer({ min: 0, max: N }), async (from, len) => {
      const to = Math.min(N, from + len);
      assert.deepEqual(await readRange(from, to), frames.slice(from - 1, to));
    }),
    { numRuns: 40 },
  );
});

test("a time maps to the first seq whose ts_recv is at or after it", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: N + 1 }),
      fc.integer({ min: 0, max: 999 }),
      async (seq, extra) => {
        const t = Number(tsOf(seq)) + extra;
        // Brute force: ts_recv of seq s is tsOf(s), 1000 ns apart.
        let expected = 1;
        while (expected <= N && Number(tsOf(expected)) < t) expected++;
        assert.equal(await seqAtTime(sources, t, 1, N), expected);
      },
    ),
    { numRuns: 40 },
  );
});

test("a reader opened before anything was written reads the first frames once they are", async () => {
  const empty = tempDir("tickring-history-empty-");
  const dir = join(empty.dir, "wal");
  const { wal } = await Wal.open({ dir, fsync: "os" });
  const emptyStore = await Store.open({ dir: join(empty.dir, "store") });
  try {
    const reader = new HistoryReader({ walDir: dir, store: async () => emptyStore }, 1);
    assert.equal(await reader.read(Number.MAX_SAFE_INTEGER), null);
    for (const [i, f] of frames.slice(0, 10).entries()) wal.append(f, i + 1);
    wal.write();
    const batch = await reader.read(Number.MAX_SAFE_INTEGER);
    assert.equal(batch?.firstSeq, 1);
    reader.close();
  } finally {
    await wal.close();
    await emptyStore.close();
    empty.cleanup();
  }
});
