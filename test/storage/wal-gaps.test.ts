/**
 * What the WAL cannot give back, against real files: a damaged record in a sealed segment, a sealed segment
 * that ends early, and a recorded hole. A reader with `onGap` gets every readable frame, in order, with the
 * unreadable range reported between them; without it, the frames before the damage and then the error. The
 * indexer skips such ranges in the store and goes on; the writer continues after a hole; retention forgets
 * holes with the segments before them.
 */
import assert from "node:assert/strict";
import { closeSync, existsSync, openSync, readFileSync, truncateSync } from "node:fs";
import { test } from "node:test";
import { frameSeq } from "../../src/frame/codec.js";
import type { StorageError } from "../../src/storage/errors.js";
import { Indexer } from "../../src/storage/indexer.js";
import { Store } from "../../src/storage/store/store.js";
import { segmentPath } from "../../src/storage/wal/files.js";
import { writeHole } from "../../src/storage/wal/holes.js";
import { openWalReader, type WalGapReason } from "../../src/storage/wal/reader.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { xorByte } from "./disk.js";
import { collect, makeFrames, tempDir } from "./helpers.js";

type Event = number | [number, number, WalGapReason];

/** Seqs read (checked against each frame's own seq) and gaps reported, in order, until the reader is caught up. */
function readEvents(dir: string, from: number, polls = 200): Event[] {
  const events: Event[] = [];
  const r = openWalReader(dir, from, { onGap: (a, b, reason) => events.push([a, b, reason]) });
  try {
    for (let idle = 0; idle < polls;) {
      const b = r.nextSync();
      if (b === null) {
        idle++;
        continue;
      }
      for (let i = 0; i < b.count; i++) {
        assert.equal(frameSeq(b.bytes, b.offsets[i]), b.firstSeq + i);
        events.push(b.firstSeq + i);
      }
    }
  } finally {
    r.close();
  }
  return events;
}

/** `from..to` as read events. */
function seqs(from: number, to: number): Event[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function writeWal(dir: string, n: number, opts: object = {}): Promise<Wal> {
  const { wal } = await Wal.open({ dir, segmentBytes: 4096, indexIntervalBytes: 1024, ...opts });
  const frames = makeFrames(1, n);
  for (let i = 0; i < n; i++) {
    wal.append(frames[i], i + 1);
    if (i % 5 === 4) wal.write();
  }
  await wal.flush();
  return wal;
}

/** Flips a byte of `file` at `at`; returns the seq of the record holding it (records read by their lengths). */
function flip(file: string, firstSeq: number, at: number): number {
  const bytes = readFileSync(file);
  let seq = firstSeq;
  for (let p = 0; p + 8 + bytes.readUInt32LE(p) <= at; p += 8 + bytes.readUInt32LE(p)) seq++;
  xorByte(file, at, 0x40);
  return seq;
}

test("a damaged record in a sealed segment: onGap gets the rest of that segment, reading goes on after it", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeWal(dir, 300);
    const segs = wal.segments();
    await wal.close();
    const s = segs[2];
    const bad = flip(s.file, s.firstSeq, 700);
    assert.ok(bad > s.firstSeq && bad < s.lastSeq);
    const gap: Event = [bad, s.lastSeq, "unreadable"];
    assert.deepEqual(readEvents(dir, 1), [...seqs(1, bad - 1), gap, ...seqs(s.lastSeq + 1, 300)]);
    // From inside the damaged range: the gap starts at the wanted seq.
    const want = bad + 2;
    assert.deepEqual(readEvents(dir, want), [[want, s.lastSeq, "unreadable"], ...seqs(s.lastSeq + 1, 300)]);
    // A small read buffer and the async path: the same stream.
    const events: Event[] = [];
    const r = openWalReader(dir, 1, { maxFrames: 7, onGap: (a, b, reason) => events.push([a, b, reason]) });
    for (let b = await r.next(); b !== null; b = await r.next()) events.push(...seqs(b.firstSeq, b.lastSeq));
    r.close();
    assert.deepEqual(events, [...seqs(1, bad - 1), gap, ...seqs(s.lastSeq + 1, 300)]);
    // Without onGap: every frame before the damage, then the error naming file and offset.
    const plain = openWalReader(dir, 1);
    const got: number[] = [];
    assert.throws(
      () => {
        for (let b = plain.nextSync(); b !== null; b = plain.nextSync())
          got.push(...(seqs(b.firstSeq, b.lastSeq) as number[]));
      },
      (e: StorageError & { file: string }) => e.code === "ERR_WAL_CORRUPT" && e.file === s.file,
    );
    plain.close();
    assert.deepEqual(got, seqs(1, bad - 1));
  } finally {
    cleanup();
  }
});

test("a damaged record in the segment being written is an error even with onGap: nothing after it to go to", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeWal(dir, 300);
    const active = wal.segments().at(-1)!;
    await wal.close();
    flip(active.file, active.firstSeq, 300);
    const r = openWalReader(dir, active.firstSeq, {
      onGap: () => assert.fail("no gap in the active segment"),
    });
    assert.throws(
      () => {
        for (let i = 0; i < 10; i++) r.nextSync();
      },
      { code: "ERR_WAL_CORRUPT" },
    );
    r.close();
  } finally {
    cleanup();
  }
});

test("a sealed segment that ends early: its missing seqs are unreadable, as a gap", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeWal(dir, 300);
    const segs = wal.segments();
    await wal.close();
    // Torn inside its last record, or cut at a record boundary: a reader at its end sees a later segment
    // when it lists the directory (now and then while it polls).
    const a = segs[1];
    truncateSync(a.file, a.bytes - 5);
    const b = segs[3];
    const lastLen = readFileSync(b.file).length;
    let end = 0;
    const bytes = readFileSync(b.file);
    for (let i = 0; i < b.lastSeq - b.firstSeq - 1; i++) end += 8 + bytes.readUInt32LE(end);
    truncateSync(b.file, end);
    assert.ok(end < lastLen);
    const { wal: again, report } = await Wal.open({ dir, verifySealed: true });
    await again.close();
    assert.deepEqual(
      report.sealedDamage?.map((d) => [d.file, d.fromSeq, d.toSeq]),
      [
        [a.file, a.lastSeq, a.lastSeq],
        [b.file, b.lastSeq - 1, b.lastSeq],
      ],
    );
    assert.deepEqual(readEvents(dir, 1), [
      ...seqs(1, a.lastSeq - 1),
      [a.lastSeq, a.lastSeq, "unreadable"],
      ...seqs(a.lastSeq + 1, b.lastSeq - 2),
      [b.lastSeq - 1, b.lastSeq, "unreadable"],
      ...seqs(b.lastSeq + 1, 300),
    ]);
    const plain = openWalReader(dir, a.lastSeq);
    assert.throws(() => {
      for (let i = 0; i < 200; i++) plain.nextSync();
    }, /sealed segment ends inside a record/);
    plain.close();
  } finally {
    cleanup();
  }
});

test("a recorded hole: open resumes after it, readers report it as lost, the writer continues after it", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeWal(dir, 100);
    await wal.close();
    writeHole(dir, 101, 150);
    // As `wal repair` leaves it: the hole, then an empty segment where the WAL continues.
    closeSync(openSync(segmentPath(dir, 151), "w"));
    const { wal: w2, report } = await Wal.open({ dir, segmentBytes: 4096 });
    assert.equal(report.lastSeq, 150);
    const more = makeFrames(151, 220);
    more.forEach((f, i) => w2.append(f, 151 + i));
    await w2.close();
    const lost: Event = [101, 150, "lost"];
    assert.deepEqual(readEvents(dir, 1), [...seqs(1, 100), lost, ...seqs(151, 220)]);
    assert.deepEqual(readEvents(dir, 120), [[120, 150, "lost"], ...seqs(151, 220)]);
    assert.deepEqual(readEvents(dir, 160), seqs(160, 220));
    assert.throws(
      () => {
        const r = openWalReader(dir, 90);
        for (let i = 0; i < 10; i++) r.nextSync();
      },
      (e: StorageError) => e.code === "ERR_WAL_GAP" && /lost seqs 101\.\.150 for good/.test(e.message),
    );
  } finally {
    cleanup();
  }
});

test("a hole recorded after the last segment, with no segment after it yet: the writer starts one", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wal = await writeWal(dir, 50);
    await wal.close();
    writeHole(dir, 51, 80);
    const { wal: w2, report } = await Wal.open({ dir });
    assert.equal(report.lastSeq, 80);
    makeFrames(81, 90).forEach((f, i) => w2.append(f, 81 + i));
    await w2.close();
    assert.ok(existsSync(segmentPath(dir, 81)));
    assert.deepEqual(readEvents(dir, 1), [...seqs(1, 50), [51, 80, "lost"], ...seqs(81, 90)]);
  } finally {
    cleanup();
  }
});

test("the indexer skips what the WAL cannot give and goes on; retention keeps hole records", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const walDir = `${dir}/wal`;
    const wal = await writeWal(walDir, 200);
    const segs = wal.segments();
    await wal.close();
    const bad = flip(segs[2].file, segs[2].firstSeq, 700);
    writeHole(walDir, 201, 230);
    closeSync(openSync(segmentPath(walDir, 231), "w"));
    const { wal: w2 } = await Wal.open({ dir: walDir, segmentBytes: 4096 });
    makeFrames(231, 300).forEach((f, i) => w2.append(f, 231 + i));
    await w2.flush();
    const store = await Store.open({ dir: `${dir}/store` });
    const gaps: Event[] = [];
    const indexer = new Indexer(store, {
      walDir,
      maxBatchFrames: 13,
      onGap: (a, b, reason) => gaps.push([a, b, reason]),
      onError: (err) => assert.fail(String(err)),
    });
    indexer.start();
    await indexer.waitFor(300);
    await indexer.stop();
    assert.deepEqual(gaps, [
      [bad, segs[2].lastSeq, "unreadable"],
      [201, 230, "lost"],
    ]);
    const got: number[] = [];
    const frames: Uint8Array[] = [];
    for await (const b of store.readBySeq(1, 300)) collect(b, got, frames, true);
    assert.deepEqual(got, [...seqs(1, bad - 1), ...seqs(segs[2].lastSeq + 1, 200), ...seqs(231, 300)]);
    // Retention: the segments up to the hole go; its record stays (history from the store reads it).
    while (w2.segments()[0].firstSeq < 231) w2.removeOldestSegment(store.checkpoint);
    assert.equal(w2.segments()[0].firstSeq, 231);
    assert.equal(existsSync(`${walDir}/000000000201.hole`), true);
    assert.throws(() => openWalReader(walDir, 150), { code: "ERR_WAL_SEQ_RETIRED" });
    assert.deepEqual(readEvents(walDir, 210), [[210, 230, "lost"], ...seqs(231, 300)]);
    await store.close();
    await w2.close();
  } finally {
    cleanup();
  }
});
