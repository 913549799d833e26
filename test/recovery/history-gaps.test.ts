/**
 * History across what the WAL cannot give (a damaged sealed segment, a recorded hole): the store fills in
 * what it holds, byte for byte; what nothing holds is reported once, in stream order, as a gap with its
 * reason; without a gap listener the read fails there instead. Real WAL and LevelDB files.
 */
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { frameLength, frameSeq } from "../../src/frame/codec.js";
import { type FrameBatch, Indexer, segmentPath, Store, Wal } from "../../src/storage/index.js";
import { writeHole } from "../../src/storage/wal/holes.js";
import { HistoryReader } from "../../src/subscriber/history.js";
import { recordOffsets, xorByte } from "../storage/disk.js";
import { makeFrames } from "../storage/helpers.js";
import { tempDir } from "../support/daemon.js";

const N = 600;
const FRAMES = makeFrames(1, N, 1);

type Event = number | string;

/** A WAL of N frames in 8 KiB segments; the store indexed up to `indexed` (before any damage). */
async function setup(path: string, indexed: number) {
  const walDir = join(path, "wal");
  const { wal } = await Wal.open({ dir: walDir, segmentBytes: 8192 });
  FRAMES.forEach((f, i) => wal.append(f, i + 1));
  await wal.flush();
  const segs = wal.segments();
  await wal.close();
  const store = await Store.open({ dir: join(path, "store") });
  if (indexed > 0) {
    const indexer = new Indexer(store, { walDir, limitSeq: () => indexed });
    indexer.start();
    await indexer.waitFor(indexed);
    await indexer.stop();
  }
  return { walDir, segs, store, sources: { walDir, store: async () => store } };
}

/** Corrupts the record of seq `seq` in its segment (a byte of its frame); segments from `segs`. */
function corrupt(segs: { file: string; firstSeq: number; lastSeq: number }[], seq: number): void {
  const s = segs.find((x) => x.firstSeq <= seq && seq <= x.lastSeq)!;
  xorByte(s.file, recordOffsets(s.file)[seq - s.firstSeq] + 30, 0x21);
}

/** Reads `from..to` (one read per call to `read(to)`), recording frames (checked byte for byte) and gaps. */
async function history(
  sources: { walDir: string; store(): Promise<Store> },
  from: number,
  to: number,
  steps: number[] = [to],
): Promise<Event[]> {
  const out: Event[] = [];
  const reader = new HistoryReader(sources, from, (a, b, reason) => out.push(`${reason} ${a}..${b}`));
  try {
    for (const max of steps) {
      for (;;) {
        const b: FrameBatch | null = await reader.read(max);
        if (b === null) break;
        for (let i = 0; i < b.count; i++) {
          const o: number = b.offsets[i];
          const seq = frameSeq(b.bytes, o);
          assert.deepEqual(new Uint8Array(b.bytes.subarray(o, o + frameLength(b.bytes, o))), FRAMES[seq - 1]);
          out.push(seq);
        }
      }
    }
  } finally {
    reader.close();
  }
  return out;
}

function seqs(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

test("a damaged sealed segment the store holds: history is whole, no gap", async () => {
  const dir = tempDir("tickring-histgap-");
  try {
    const { segs, store, sources } = await setup(dir.path, N);
    corrupt(segs, segs[1].firstSeq + 3);
    assert.deepEqual(await history(sources, 1, N), seqs(1, N));
    await store.close();
  } finally {
    dir.remove();
  }
});

test("what nothing holds is one gap between the frames around it, clipped to the read's bound", async () => {
  const dir = tempDir("tickring-histgap-");
  try {
    const { segs, store, sources } = await setup(dir.path, 0);
    const s = segs[2];
    const bad = s.firstSeq + 3;
    corrupt(segs, bad);
    const gap = `unreadable ${bad}..${s.lastSeq}`;
    assert.deepEqual(await history(sources, 1, N), [...seqs(1, bad - 1), gap, ...seqs(s.lastSeq + 1, N)]);
    // A live replay's bound grows: the gap is told in parts, never past the bound, never twice.
    const mid = bad + 2;
    assert.deepEqual(await history(sources, 1, N, [mid, N]), [
      ...seqs(1, bad - 1),
      `unreadable ${bad}..${mid}`,
      `unreadable ${mid + 1}..${s.lastSeq}`,
      ...seqs(s.lastSeq + 1, N),
    ]);
    // Without a listener the read fails there, after the frames before it.
    const reader = new HistoryReader(sources, 1);
    const got: number[] = [];
    await assert.rejects(
      async () => {
        for (let b = await reader.read(N); b !== null; b = await reader.read(N))
          got.push(...seqs(b.firstSeq, b.lastSeq));
      },
      { code: "ERR_WAL_CORRUPT" },
    );
    reader.close();
    assert.deepEqual(got, seqs(1, bad - 1));
    await store.close();
  } finally {
    dir.remove();
  }
});

test("the store fills in the part of an unreadable range it holds; the rest is a gap", async () => {
  const dir = tempDir("tickring-histgap-");
  try {
    const probe = await setup(join(dir.path, "probe"), 0);
    await probe.store.close();
    const s = probe.segs[2];
    const bad = s.firstSeq + 3;
    const indexed = bad + 5;
    const { segs, store, sources } = await setup(join(dir.path, "data"), indexed);
    corrupt(segs, bad);
    assert.deepEqual(await history(sources, 1, N), [
      ...seqs(1, indexed),
      `unreadable ${indexed + 1}..${s.lastSeq}`,
      ...seqs(s.lastSeq + 1, N),
    ]);
    await store.close();
  } finally {
    dir.remove();
  }
});

test("a recorded hole is a gap with reason lost, from the WAL and from the store alike", async () => {
  const dir = tempDir("tickring-histgap-");
  try {
    const { walDir, store, sources } = await setup(dir.path, 0);
    writeHole(walDir, N + 1, N + 50);
    closeSync(openSync(segmentPath(walDir, N + 51), "w"));
    const { wal } = await Wal.open({ dir: walDir, segmentBytes: 8192 });
    const more = makeFrames(N + 51, N + 60, 1);
    FRAMES.push(...Array.from({ length: 50 }, () => new Uint8Array(0)), ...more);
    more.forEach((f, i) => wal.append(f, N + 51 + i));
    await wal.flush();
    const lost = `lost ${N + 1}..${N + 50}`;
    assert.deepEqual(await history(sources, N - 2, N + 60), [
      ...seqs(N - 2, N),
      lost,
      ...seqs(N + 51, N + 60),
    ]);
    // The indexer skips the hole in the store; with the WAL's segments gone, the store's jump is the same gap.
    const indexer = new Indexer(store, { walDir, onError: (err) => assert.fail(String(err)) });
    indexer.start();
    await indexer.waitFor(N + 60);
    await indexer.stop();
    while (wal.removeOldestSegment(store.checkpoint) !== null);
    assert.ok(wal.segments()[0].firstSeq === N + 51, "only the segment after the hole is left");
    assert.deepEqual(await history(sources, N - 2, N + 60), [
      ...seqs(N - 2, N),
      lost,
      ...seqs(N + 51, N + 60),
    ]);
    await wal.close();
    await store.close();
  } finally {
    FRAMES.length = N;
    dir.remove();
  }
});
