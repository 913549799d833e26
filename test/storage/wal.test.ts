import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { frameSeq } from "../../src/frame/codec.js";
import type { StorageError } from "../../src/storage/errors.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { indexPathOf, segmentPath } from "../../src/storage/wal/files.js";
import { openWalReader } from "../../src/storage/wal/reader.js";
import { makeFrames, readAllWal, tempDir } from "./helpers.js";

async function writeAll(dir: string, frames: Uint8Array[], group: number, opts: object = {}): Promise<Wal> {
  const { wal } = await Wal.open({ dir, segmentBytes: 8192, indexIntervalBytes: 1024, ...opts });
  for (let i = 0; i < frames.length; i++) {
    wal.append(frames[i], wal.lastSeq + 1);
    if ((i + 1) % group === 0) wal.write();
  }
  await wal.flush();
  return wal;
}

test("append/read round trip across segment rolls, from every start seq", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const frames = makeFrames(1, 600, 2);
    const wal = await writeAll(dir, frames, 7);
    assert.ok(wal.segments().length > 5, "several segments");
    assert.equal(wal.durableSeq, 600);
    const segs = wal.segments();
    for (let i = 1; i < segs.length; i++) assert.equal(segs[i].firstSeq, segs[i - 1].lastSeq + 1);
    for (let from = 1; from <= 601; from += 13) {
      const got = readAllWal((s) => openWalReader(dir, s, { bufferBytes: 1 << 20, maxFrames: 50 }), from);
      assert.deepEqual(
        got.seqs,
        Array.from({ length: 601 - from }, (_, i) => from + i),
      );
      for (let i = 0; i < got.frames.length; i++) {
        assert.deepEqual(got.frames[i], frames[from - 1 + i]);
        assert.equal(frameSeq(got.frames[i], 0), from + i);
      }
    }
    await wal.close();
  } finally {
    cleanup();
  }
});

test("async reader tails the active segment and follows rolls", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const frames = makeFrames(1, 400);
    const { wal } = await Wal.open({ dir, segmentBytes: 4096, fsync: "os" });
    const r = openWalReader(dir, 1);
    assert.equal(await r.next(), null, "empty WAL: nothing yet");
    let expect = 1;
    for (let i = 0; i < frames.length; i += 37) {
      for (let j = i; j < Math.min(i + 37, frames.length); j++) wal.append(frames[j], j + 1);
      wal.write();
      for (let b = await r.next(); b !== null; b = await r.next()) {
        for (let k = 0; k < b.count; k++) assert.equal(frameSeq(b.bytes, b.offsets[k]), expect++);
      }
      assert.equal(expect, wal.writtenSeq + 1, "caught up after each write");
    }
    assert.equal(expect, 401);
    r.close();
    await wal.close();
  } finally {
    cleanup();
  }
});

test("reopen continues the seq; out-of-order seqs and bad frames are rejected with codes", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const frames = makeFrames(1, 100);
    const wal = await writeAll(dir, frames.slice(0, 60), 10);
    assert.throws(
      () => wal.append(frames[60], 62),
      (e: StorageError) => e.code === "ERR_WAL_SEQ",
    );
    assert.throws(
      () => wal.append(new Uint8Array(12), 61),
      (e: StorageError) => e.code === "ERR_WAL_FRAME",
    );
    await wal.close();
    assert.throws(
      () => wal.append(frames[60], 61),
      (e: StorageError) => e.code === "ERR_WAL_CLOSED",
    );
    const { wal: w2, report } = await Wal.open({ dir, segmentBytes: 8192 });
    assert.deepEqual(report, { lastSeq: 60 });
    for (let i = 60; i < 100; i++) w2.append(frames[i], i + 1);
    await w2.flush();
    await w2.close();
    assert.deepEqual(readAllWal((s) => openWalReader(dir, s), 1).frames, frames);
  } finally {
    cleanup();
  }
});

test("a failed file operation is ERR_WAL_IO naming the file, with the system error as cause", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal } = await Wal.open({ dir });
    // A directory where the first segment goes: creating the segment fails with EISDIR.
    mkdirSync(segmentPath(dir, 1));
    assert.throws(
      () => wal.append(makeFrames(1, 1)[0], 1),
      (e: StorageError) =>
        e.code === "ERR_WAL_IO" &&
        e.message.includes(segmentPath(dir, 1)) &&
        (e.cause as NodeJS.ErrnoException).code === "EISDIR",
    );
    await wal.close();
  } finally {
    cleanup();
  }
});

test("options are validated with the bad value in the message", async () => {
  await assert.rejects(Wal.open({ dir: "/tmp/x", fsync: "never" as "os" }), /fsync must be .*fsync=never/);
  await assert.rejects(
    Wal.open({ dir: "/tmp/x", batchMs: -1 }),
    (e: StorageError) => e.code === "ERR_STORAGE_OPTION",
  );
  assert.throws(() => openWalReader("/tmp/x", 0), /fromSeq=0/);
});

for (const fsync of ["always", "batch", "os"] as const) {
  test(`durableSeq and onDurable under fsync=${fsync}`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const syncs: number[] = [];
      const { wal } = await Wal.open({ dir, fsync, batchRecords: 50, onFsync: (ns) => syncs.push(ns) });
      const seen: number[] = [];
      wal.onDurable((s) => seen.push(s));
      const frames = makeFrames(1, 200);
      for (let i = 0; i < 200; i++) {
        wal.append(frames[i], i + 1);
        if (i % 10 === 9) wal.write();
      }
      assert.equal(wal.writtenSeq, 200);
      if (fsync === "os") assert.equal(wal.durableSeq, 200, "os: durable once written");
      await wal.flush();
      assert.equal(wal.durableSeq, 200);
      assert.equal(seen.at(-1), 200);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], "durableSeq only grows");
      if (fsync !== "os") assert.ok(syncs.length >= 1);
      await wal.close();
    } finally {
      cleanup();
    }
  });
}

test("a corrupt sealed segment is reported by open, and an error naming file and offset for a reader; a garbage index is only a hint", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeAll(dir, makeFrames(1, 300), 5);
    const segs = wal.segments();
    await wal.close();
    writeFileSync(indexPathOf(segs[1].file), Buffer.alloc(64, 0x5a));
    const mid = Math.floor((segs[1].firstSeq + segs[1].lastSeq) / 2);
    assert.deepEqual(readAllWal((s) => openWalReader(dir, s), mid).seqs[0], mid);
    const bytes = readFileSync(segs[1].file);
    bytes[100] ^= 0xff;
    writeFileSync(segs[1].file, bytes);
    // The writer never touches a sealed segment again: open reports it and the WAL opens.
    const { wal: again, report } = await Wal.open({ dir, verifySealed: true });
    assert.equal(report.lastSeq, 300);
    const damage = report.sealedDamage ?? [];
    assert.equal(damage.length, 1);
    assert.equal(damage[0].file, segs[1].file);
    assert.ok(damage[0].offset <= 100);
    assert.equal(damage[0].fromSeq, segs[1].firstSeq, "the bad record is the segment's first");
    assert.equal(damage[0].toSeq, segs[1].lastSeq);
    await again.close();
    assert.throws(
      () => readAllWal((s) => openWalReader(dir, s), 1),
      (e: StorageError) => {
        return e.code === "ERR_WAL_CORRUPT" && e.message.includes(segs[1].file);
      },
    );
  } finally {
    cleanup();
  }
});

test("a reader asking for a removed seq gets ERR_WAL_SEQ_RETIRED", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeAll(dir, makeFrames(1, 300), 5);
    const first = wal.segments()[0];
    assert.equal(wal.removeOldestSegment(first.lastSeq - 1), null, "not covered: kept");
    assert.equal(wal.removeOldestSegment(first.lastSeq), first.file);
    assert.throws(
      () => openWalReader(dir, 1),
      (e: StorageError) => e.code === "ERR_WAL_SEQ_RETIRED",
    );
    assert.equal(
      readAllWal((s) => openWalReader(dir, s), first.lastSeq + 1).seqs.length,
      300 - first.lastSeq,
    );
    await wal.close();
  } finally {
    cleanup();
  }
});

test("a missing segment in the middle is ERR_WAL_GAP for a reader, not an endless wait", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeAll(dir, makeFrames(1, 300), 5);
    const segs = wal.segments();
    await wal.close();
    const { unlinkSync } = await import("node:fs");
    unlinkSync(segs[1].file);
    const r = openWalReader(dir, 1);
    assert.throws(
      () => {
        for (let i = 0; i < 1000; i++) r.nextSync();
      },
      (e: StorageError) => e.code === "ERR_WAL_GAP",
    );
    r.close();
  } finally {
    cleanup();
  }
});

test("a reader seeks through the sparse index: damage before the hinted record is never read", async () => {
  const { dir, cleanup } = tempDir();
  try {
    // One 64 KiB segment, an index entry per 4 KiB.
    const wal = await writeAll(dir, makeFrames(1, 400), 16, {
      segmentBytes: 1 << 20,
      indexIntervalBytes: 4096,
    });
    const seg = wal.segments()[0];
    await wal.close();
    const bytes = readFileSync(seg.file);
    bytes[200] ^= 0xff; // inside the second record
    writeFileSync(seg.file, bytes);
    assert.throws(
      () => readAllWal((s) => openWalReader(dir, s), 1),
      (e: StorageError) => e.code === "ERR_WAL_CORRUPT",
    );
    // Seq 300 lies far past the first index entry: the reader starts there and never meets the damage.
    const got = readAllWal((s) => openWalReader(dir, s), 300);
    assert.deepEqual(
      got.seqs,
      Array.from({ length: 101 }, (_, i) => 300 + i),
    );
  } finally {
    cleanup();
  }
});

test("open verifies the newest sealed segment even without verifySealed, and reports what it cannot read", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeAll(dir, makeFrames(1, 300), 5);
    const segs = wal.segments();
    await wal.close();
    const newestSealed = segs[segs.length - 2];
    const bytes = readFileSync(newestSealed.file);
    writeFileSync(newestSealed.file, bytes.subarray(0, bytes.length - 3));
    const { wal: again, report } = await Wal.open({ dir });
    assert.deepEqual(
      report.sealedDamage?.map((d) => [d.file, d.fromSeq, d.toSeq]),
      [[newestSealed.file, newestSealed.lastSeq, newestSealed.lastSeq]],
      "its last record is torn",
    );
    await again.close();
  } finally {
    cleanup();
  }
});
