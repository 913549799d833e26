/**
 * Free space and the reserve file, on a real small tmpfs (skipped without one): the reserve is created only
 * with room for it twice over, of real bytes; deleting it gives a full disk room; and taking the data
 * directory's lock on a full disk deletes it to write the lock — unless a live process holds the lock.
 */
import assert from "node:assert/strict";
import { existsSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { freeBytes, isDiskFull, openDataDir, SpaceReserve } from "../../src/storage/index.js";
import { mountTmpfs } from "../support/tmpfs.js";
import { fillDisk } from "./disk.js";

const fs = mountTmpfs(2 * 1024 * 1024);
const skip = typeof fs === "string" ? fs : false;
after(() => {
  if (typeof fs !== "string") fs.remove();
});
const KIB = 1024;

test(
  "the reserve: created with room for it twice over, real bytes, released for headroom",
  { skip },
  async () => {
    if (typeof fs === "string") return;
    const data = join(fs.path, "reserve-test");
    const dir = await openDataDir(data);
    try {
      const free0 = freeBytes(data);
      const reserve = new SpaceReserve(dir.reserveFile, 512 * KIB);
      assert.equal(await reserve.ensure(), true);
      assert.equal(statSync(dir.reserveFile).size, 512 * KIB);
      assert.equal(free0 - freeBytes(data), 512 * KIB, "the bytes are allocated, not sparse");
      assert.equal(await reserve.ensure(), true, "present: nothing more written");
      assert.equal(free0 - freeBytes(data), 512 * KIB);
      const filler = fillDisk(fs.path);
      assert.equal(freeBytes(data), 0);
      assert.equal(reserve.release(), 512 * KIB);
      assert.equal(freeBytes(data), 512 * KIB, "releasing gives the full disk its headroom");
      assert.equal(reserve.release(), 0, "nothing left to release");
      // Too little room to keep headroom after creating it: not created.
      assert.equal(await new SpaceReserve(dir.reserveFile, 300 * KIB).ensure(), false);
      assert.equal(existsSync(dir.reserveFile), false);
      unlinkSync(filler);
    } finally {
      dir.release();
    }
  },
);

test(
  "taking the lock on a full disk deletes the reserve to write it; a live holder keeps it",
  { skip },
  async () => {
    if (typeof fs === "string") return;
    const data = join(fs.path, "lock-test");
    const first = await openDataDir(data);
    assert.equal(await new SpaceReserve(first.reserveFile, 256 * KIB).ensure(), true);
    first.release();
    // A live holder (this test's parent process) on a full disk: refused as held, the reserve untouched.
    writeFileSync(first.lockFile, `${process.ppid}\n`);
    const filler = fillDisk(fs.path);
    await assert.rejects(openDataDir(data), { code: "ERR_DATA_LOCKED" });
    assert.ok(existsSync(first.reserveFile));
    // No holder: the lock's few bytes do not fit until the reserve goes.
    unlinkSync(first.lockFile);
    fillDisk(fs.path, "filler-2");
    const again = await openDataDir(data);
    assert.equal(existsSync(first.reserveFile), false, "the reserve was deleted for room");
    assert.equal(statSync(again.lockFile).size > 0, true);
    again.release();
    unlinkSync(filler);
  },
);

test("isDiskFull reads ENOSPC from an error's cause chain and LevelDB's message", () => {
  const enospc = Object.assign(new Error("write"), { code: "ENOSPC" });
  assert.equal(isDiskFull(enospc), true);
  assert.equal(isDiskFull(new Error("wrapped", { cause: enospc })), true);
  assert.equal(isDiskFull(new Error("IO error: /x/000003.log: No space left on device")), true);
  assert.equal(isDiskFull(Object.assign(new Error("EIO"), { code: "EIO" })), false);
  assert.equal(isDiskFull(undefined), false);
});
