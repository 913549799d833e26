/**
 * A failed write leaves the WAL as it was after its last successful write, and usable: the group is
 * discarded (lastSeq back to writtenSeq), the files cut back, a WalIoError thrown with the system error as
 * cause; appending the same seqs again succeeds once space returns. Each case runs with a simulated fault at
 * the WAL's file seam (`WalOptions.files`), and the disk-full ones also on a real small tmpfs when this
 * process may mount one.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { StorageError, WalIoError } from "../../src/storage/errors.js";
import { NODE_FILE_OPS, type WalFileOps } from "../../src/storage/wal/file-ops.js";
import { indexPathOf, listSegments, segmentPath } from "../../src/storage/wal/files.js";
import { openWalReader } from "../../src/storage/wal/reader.js";
import { Wal, type WalOptions } from "../../src/storage/wal/wal.js";
import { mountTmpfs } from "../support/tmpfs.js";
import { fillDisk } from "./disk.js";
import { makeFrames, readAllWal, tempDir } from "./helpers.js";

const FRAMES = makeFrames(1, 400, 2);

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28 });
}

/** A file seam whose faults a test switches on: writes fail after `budget` more bytes (some written first). */
class Faults {
  budget = Number.POSITIVE_INFINITY;
  /** Paths whose creation fails with ENOSPC. */
  failCreate: (path: string) => boolean = () => false;
  failTruncate = false;
  failSync = false;
  readonly ops: Partial<WalFileOps> = {
    writeSync: (fd, buffer, offset, length, position) => {
      if (this.budget <= 0) throw enospc();
      const n = Math.min(length, this.budget);
      this.budget -= n;
      // A short write first, then the failure on the next call: what a disk filling mid-write does.
      return NODE_FILE_OPS.writeSync(fd, buffer, offset, n, position);
    },
    openSync: (path, flags) => {
      if (flags === "w" && this.failCreate(path)) throw enospc();
      return NODE_FILE_OPS.openSync(path, flags);
    },
    ftruncateSync: (fd, length) => {
      if (this.failTruncate) throw Object.assign(new Error("EIO"), { code: "EIO" });
      NODE_FILE_OPS.ftruncateSync(fd, length);
    },
    fdatasync: (fd, cb) => {
      if (this.failSync) setImmediate(() => cb(Object.assign(new Error("EIO"), { code: "EIO" })));
      else NODE_FILE_OPS.fdatasync(fd, cb);
    },
  };
}

/** Name → bytes of every file in `dir`. */
function snapshotFiles(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n))]));
}

function isEnospc(e: unknown): boolean {
  return (
    e instanceof WalIoError &&
    e.code === "ERR_WAL_IO" &&
    (e.cause as NodeJS.ErrnoException).code === "ENOSPC" &&
    e.message.includes("ENOSPC")
  );
}

/** Appends `FRAMES[from-1 .. to-1]` in groups of `group` records, writing each group. */
function appendRange(wal: Wal, from: number, to: number, group = 10): void {
  for (let s = from; s <= to; s++) {
    wal.append(FRAMES[s - 1], s);
    if ((s - from + 1) % group === 0 || s === to) wal.write();
  }
}

async function reopenAndRead(dir: string, opts: Partial<WalOptions> = {}): Promise<Uint8Array[]> {
  const { wal, report } = await Wal.open({ dir, ...opts });
  assert.equal(report.truncated, undefined, "nothing to cut: the undo left whole records only");
  await wal.close();
  return readAllWal((s) => openWalReader(dir, s), 1).frames;
}

const OPTS = { segmentBytes: 8192, indexIntervalBytes: 1024, fsync: "batch" } as const;

/** A WAL in `dir` behind a fault seam, holding seqs 1..`n`, flushed. */
async function faultyWal(
  dir: string,
  n: number,
  opts: Partial<WalOptions> = {},
): Promise<{ wal: Wal; faults: Faults }> {
  const faults = new Faults();
  const { wal } = await Wal.open({ dir, ...OPTS, ...opts, files: faults.ops });
  appendRange(wal, 1, n);
  await wal.flush();
  return { wal, faults };
}

test("a write that fails half-way is undone; the same seqs are written again once space returns", async () => {
  const { dir, cleanup } = tempDir();
  try {
    // Segments large enough that no group here rolls: only write() meets the fault.
    const { wal, faults } = await faultyWal(dir, 30, { segmentBytes: 1 << 20 });
    const before = snapshotFiles(dir);
    for (let s = 31; s <= 40; s++) wal.append(FRAMES[s - 1], s);
    faults.budget = 300; // part of the group reaches the file, then the disk is full
    assert.throws(() => wal.write(), isEnospc);
    assert.deepEqual([wal.lastSeq, wal.writtenSeq], [30, 30], "the group is discarded");
    assert.deepEqual(snapshotFiles(dir), before, "segment and index cut back to the last good write");
    // Still full: appending fails again, still nothing changes.
    faults.budget = 0;
    for (let s = 31; s <= 35; s++) wal.append(FRAMES[s - 1], s);
    assert.throws(() => wal.write(), isEnospc);
    assert.deepEqual(snapshotFiles(dir), before);
    faults.budget = Number.POSITIVE_INFINITY;
    appendRange(wal, 31, 120);
    await wal.flush();
    assert.equal(wal.durableSeq, 120);
    await wal.close();
    assert.deepEqual(await reopenAndRead(dir), FRAMES.slice(0, 120));
  } finally {
    cleanup();
  }
});

test("a roll whose next segment cannot be created undoes the group's part already written to the old one", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal, faults } = await faultyWal(dir, 40);
    const segs = wal.segments();
    const active = segs.at(-1)!;
    const before = snapshotFiles(dir);
    faults.failCreate = (path) => path !== active.file && path.endsWith(".log");
    // One big group: it must roll in the middle, after writing its first part to the active segment.
    let thrown: unknown;
    let s = 41;
    for (; s <= 200 && thrown === undefined; s++) {
      try {
        wal.append(FRAMES[s - 1], s);
      } catch (err) {
        thrown = err;
      }
    }
    assert.ok(isEnospc(thrown), `append threw ${String(thrown)}`);
    assert.deepEqual([wal.lastSeq, wal.writtenSeq], [40, 40]);
    assert.deepEqual(snapshotFiles(dir), before, "the old segment is cut back and no new file remains");
    assert.deepEqual(wal.segments(), segs);
    faults.failCreate = () => false;
    appendRange(wal, 41, 200, 200);
    await wal.close();
    assert.deepEqual(await reopenAndRead(dir), FRAMES.slice(0, 200));
  } finally {
    cleanup();
  }
});

test("a write failing in a freshly rolled segment deletes it and cuts the old one back", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal, faults } = await faultyWal(dir, 40);
    const before = snapshotFiles(dir);
    const segs = wal.segments();
    // The roll's own write to the old segment succeeds; the write into the new one fails.
    let rolled = false;
    faults.failCreate = (path) => {
      if (path.endsWith(".log") && path !== segs.at(-1)!.file) {
        rolled = true;
        faults.budget = 0;
      }
      return false;
    };
    let s = 41;
    while (!rolled) {
      wal.append(FRAMES[s - 1], s);
      s++;
    }
    assert.ok(listSegments(dir).length > segs.length, "the group rolled into a new segment");
    assert.throws(() => wal.write(), isEnospc);
    assert.deepEqual([wal.lastSeq, wal.writtenSeq], [40, 40]);
    assert.deepEqual(snapshotFiles(dir), before);
    faults.failCreate = () => false;
    faults.budget = Number.POSITIVE_INFINITY;
    appendRange(wal, 41, 150);
    await wal.close();
    assert.deepEqual(await reopenAndRead(dir), FRAMES.slice(0, 150));
  } finally {
    cleanup();
  }
});

test("an index write failing after the segment write still undoes both", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const faults = new Faults();
    const files: Partial<WalFileOps> = {
      ...faults.ops,
      // Fail index writes only: a group's index entries are a few 8-byte entries, its records kilobytes.
      writeSync: (fd, buffer, offset, length, position) => {
        if (faults.budget === 0 && length <= 64) throw enospc();
        return NODE_FILE_OPS.writeSync(fd, buffer, offset, length, position);
      },
    };
    const { wal } = await Wal.open({ dir, ...OPTS, files });
    appendRange(wal, 1, 10);
    await wal.flush();
    const before = snapshotFiles(dir);
    // 15 records of ≈ 240 bytes: no roll (8 KiB segments), several index entries (one per 1 KiB).
    for (let s = 11; s <= 25; s++) wal.append(FRAMES[s - 1], s);
    faults.budget = 0;
    assert.throws(() => wal.write(), isEnospc);
    assert.deepEqual(snapshotFiles(dir), before);
    faults.budget = Number.POSITIVE_INFINITY;
    appendRange(wal, 11, 60);
    await wal.close();
    assert.deepEqual(await reopenAndRead(dir), FRAMES.slice(0, 60));
  } finally {
    cleanup();
  }
});

test("discardPending drops the unwritten group, a roll included", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal } = await Wal.open({ dir, ...OPTS });
    appendRange(wal, 1, 40);
    await wal.flush();
    const before = snapshotFiles(dir);
    for (let s = 41; s <= 160; s++) wal.append(FRAMES[s - 1], s);
    assert.ok(listSegments(dir).length > wal.segments().length, "the pending group rolled");
    wal.discardPending();
    assert.deepEqual([wal.lastSeq, wal.writtenSeq], [40, 40]);
    assert.deepEqual(snapshotFiles(dir), before);
    appendRange(wal, 41, 100);
    await wal.close();
    assert.deepEqual(await reopenAndRead(dir), FRAMES.slice(0, 100));
  } finally {
    cleanup();
  }
});

test("a failed undo fails the WAL for good and tells onFailure once", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal, faults } = await faultyWal(dir, 10);
    const failures: unknown[] = [];
    wal.onFailure((err) => failures.push(err));
    wal.append(FRAMES[10], 11);
    faults.budget = 10;
    faults.failTruncate = true;
    // What is thrown is the permanent failure itself, the error every later call throws.
    assert.throws(
      () => wal.write(),
      (e) => e instanceof WalIoError && e.op === "undo",
    );
    assert.equal(failures.length, 1);
    assert.equal((failures[0] as StorageError).code, "ERR_WAL_IO");
    assert.match((failures[0] as Error).message, /WAL undo of .* failed: EIO/);
    faults.budget = Number.POSITIVE_INFINITY;
    faults.failTruncate = false;
    assert.throws(
      () => wal.append(FRAMES[10], 11),
      (e) => e === failures[0],
    );
    await assert.rejects(wal.flush(), (e) => e === failures[0]);
    const late: unknown[] = [];
    wal.onFailure((err) => late.push(err));
    assert.deepEqual(late, failures, "a listener registered after the failure hears of it at once");
    await wal.close();
  } finally {
    cleanup();
  }
});

test("a failed fdatasync tells onFailure without waiting for the next append", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const faults = new Faults();
    const { wal } = await Wal.open({ dir, ...OPTS, fsync: "always", files: faults.ops });
    const failed = new Promise<unknown>((resolve) => wal.onFailure(resolve));
    faults.failSync = true;
    appendRange(wal, 1, 5);
    const err = (await failed) as StorageError;
    assert.equal(err.code, "ERR_WAL_IO");
    assert.match(err.message, /fdatasync failed: EIO/);
    assert.throws(
      () => wal.append(FRAMES[5], 6),
      (e) => e === err,
    );
    await wal.close();
  } finally {
    cleanup();
  }
});

test("open succeeds when the sparse index cannot be rewritten (a full disk at start)", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { wal } = await Wal.open({ dir, ...OPTS });
    appendRange(wal, 1, 30);
    await wal.close();
    const faults = new Faults();
    faults.budget = 0;
    const { wal: again } = await Wal.open({ dir, ...OPTS, files: faults.ops });
    const last = listSegments(dir).at(-1)!;
    assert.equal(statSync(indexPathOf(last.file)).size, 0, "the index is emptied, not half-written");
    faults.budget = Number.POSITIVE_INFINITY;
    appendRange(again, 31, 60);
    await again.close();
    assert.deepEqual(await reopenAndRead(dir), FRAMES.slice(0, 60));
  } finally {
    cleanup();
  }
});

const tmpfs = mountTmpfs(1024 * 1024);
const skip = typeof tmpfs === "string" ? tmpfs : false;

test(
  "on a real full disk: ENOSPC undone, the WAL resumes when space returns, reopens clean",
  { skip },
  async () => {
    if (typeof tmpfs === "string") return;
    const dir = join(tmpfs.path, "wal");
    try {
      const { wal } = await Wal.open({ dir, ...OPTS, segmentBytes: 16384 });
      appendRange(wal, 1, 20);
      await wal.flush();
      const filler = fillDisk(tmpfs.path);
      let failedAt = 0;
      const segsBefore = new Map<number, Map<string, Buffer>>();
      for (let s = 21; s <= 400 && failedAt === 0; s += 10) {
        segsBefore.set(s, snapshotFiles(dir));
        try {
          appendRange(wal, s, Math.min(s + 9, 400), 10);
        } catch (err) {
          assert.ok(isEnospc(err), String(err));
          failedAt = s;
        }
      }
      assert.ok(failedAt > 0, "the disk filled up");
      assert.equal(wal.writtenSeq, failedAt - 1);
      assert.deepEqual(snapshotFiles(dir), segsBefore.get(failedAt), "files as after the last good write");
      unlinkSync(filler);
      appendRange(wal, failedAt, 300);
      await wal.flush();
      await wal.close();
      assert.deepEqual(await reopenAndRead(dir), FRAMES.slice(0, 300));
    } finally {
      tmpfs.remove();
    }
  },
);

test("on a real full disk: open rewrites no index it cannot, and starts", { skip }, async () => {
  const fs = mountTmpfs(1024 * 1024);
  if (typeof fs === "string") return;
  const dir = join(fs.path, "wal");
  try {
    const { wal } = await Wal.open({ dir, ...OPTS, segmentBytes: 65536 });
    appendRange(wal, 1, 200);
    await wal.close();
    const last = listSegments(dir).at(-1)!;
    // The index must be re-created, which needs a page the full disk does not have.
    unlinkSync(indexPathOf(last.file));
    fillDisk(fs.path);
    const { wal: again, report } = await Wal.open({ dir, ...OPTS, segmentBytes: 65536 });
    assert.equal(report.lastSeq, 200);
    assert.ok(existsSync(segmentPath(dir, last.firstSeq)));
    await again.close();
  } finally {
    fs.remove();
  }
});
