import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { frameSeq } from "../../src/frame/codec.js";
import { WalSeqRetiredError } from "../../src/storage/errors.js";
import { indexPathOf, listSegments } from "../../src/storage/wal/files.js";
import { openWalReader } from "../../src/storage/wal/reader.js";
import { truncateWalAfter } from "../../src/storage/wal/truncate.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { makeFrames, readAllWal, tempDir } from "./helpers.js";

/** A WAL of seqs 1…n in small segments (several files), closed. */
async function walOf(dir: string, n: number): Promise<Uint8Array[]> {
  const frames = makeFrames(1, n);
  const { wal } = await Wal.open({ dir, segmentBytes: 8192, indexIntervalBytes: 1024 });
  for (let i = 0; i < n; i++) {
    wal.append(frames[i], i + 1);
    if (i % 5 === 4) wal.write();
  }
  await wal.close();
  return frames;
}

test("a cut leaves the WAL ending at the seq, in a middle segment or at a boundary, and it appends on from there", async () => {
  for (const after of [137, 1, 250, 0]) {
    const { dir, cleanup } = tempDir();
    try {
      const frames = await walOf(dir, 250);
      const before = listSegments(dir);
      assert.ok(before.length > 3, "several segments");
      const cut = truncateWalAfter(dir, after);
      assert.equal(cut.seqs, 250 - after);
      for (const s of listSegments(dir))
        assert.ok(s.firstSeq <= Math.max(1, after), `segment ${s.firstSeq} kept`);
      for (const s of before.filter((s) => s.firstSeq > after)) assert.ok(!existsSync(indexPathOf(s.file)));
      // The WAL opens at the cut, and takes the next seq: nothing of the cut tail survives.
      const { wal, report } = await Wal.open({ dir, segmentBytes: 8192, indexIntervalBytes: 1024 });
      assert.equal(report.lastSeq, after);
      assert.equal(report.truncated, undefined, "the cut left no torn tail");
      const next = makeFrames(after + 1, after + 3, 1);
      for (let i = 0; i < next.length; i++) wal.append(next[i], after + 1 + i);
      await wal.close();
      const got = readAllWal((s) => openWalReader(dir, s), 1);
      assert.deepEqual(
        got.seqs,
        Array.from({ length: after + 3 }, (_, i) => i + 1),
      );
      for (let i = 0; i < after; i++) assert.deepEqual(got.frames[i], frames[i]);
      for (let i = 0; i < 3; i++) assert.deepEqual(got.frames[after + i], next[i]);
      assert.equal(frameSeq(got.frames[after], 0), after + 1);
    } finally {
      cleanup();
    }
  }
});

test("a cut past the WAL's end cuts nothing; one before a retired start is refused", async () => {
  const { dir, cleanup } = tempDir();
  try {
    await walOf(dir, 100);
    assert.deepEqual(truncateWalAfter(dir, 100), { seqs: 0, bytes: 0 });
    assert.deepEqual(truncateWalAfter(dir, 500), { seqs: 0, bytes: 0 });
    // Retention took the first segment: a cut to before what is left would restart the WAL at seq 1.
    const { wal } = await Wal.open({ dir, segmentBytes: 8192, indexIntervalBytes: 1024 });
    assert.ok(wal.removeOldestSegment(100) !== null);
    const first = wal.segments()[0].firstSeq;
    await wal.close();
    assert.throws(() => truncateWalAfter(dir, first - 1), WalSeqRetiredError);
    assert.equal(truncateWalAfter(dir, first).seqs, 100 - first, "the cut may leave one seq");
    assert.equal(truncateWalAfter(dir, 0).seqs, 1, "or none, from seq 1 again");
  } finally {
    cleanup();
  }
});
