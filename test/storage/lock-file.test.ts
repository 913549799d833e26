/**
 * The data directory's lock file, in this process: one holder at a time with the holder's pid in the error,
 * and a stale lock (a dead pid, our own pid left by an earlier process, garbage) taken over.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DataLockedError } from "../../src/storage/errors.js";
import { acquireLock } from "../../src/storage/lock-file.js";
import { tempDir } from "./helpers.js";

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  return r.pid!;
}

test("one holder at a time: a second taker gets ERR_DATA_LOCKED with the holder's pid; release frees it", () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, "tickring.lock");
    const lock = acquireLock(file, dir);
    assert.equal(readFileSync(file, "utf8"), `${process.pid}\n`);
    assert.throws(
      () => acquireLock(file, dir),
      (e: DataLockedError) => e.code === "ERR_DATA_LOCKED" && e.pid === process.pid && e.dir === dir,
    );
    lock.release();
    assert.ok(!existsSync(file));
    lock.release();
    acquireLock(file, dir).release();
  } finally {
    cleanup();
  }
});

test("a live process's lock is left alone, and release never deletes a lock another process holds", () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, "tickring.lock");
    writeFileSync(file, `${process.ppid}\n`);
    assert.throws(
      () => acquireLock(file, dir),
      (e: DataLockedError) => e.pid === process.ppid && e.message.includes(`process ${process.ppid}`),
    );
    assert.equal(readFileSync(file, "utf8"), `${process.ppid}\n`);

    writeFileSync(file, `${deadPid()}\n`);
    const lock = acquireLock(file, dir);
    writeFileSync(file, `${process.ppid}\n`); // as if an operator had handed it over
    lock.release();
    assert.equal(readFileSync(file, "utf8"), `${process.ppid}\n`);
  } finally {
    cleanup();
  }
});

test("stale locks are taken over: a dead pid, our own pid left by an earlier process, garbage", () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, "tickring.lock");
    for (const stale of [`${deadPid()}\n`, `${process.pid}\n`, "", "not a pid"]) {
      writeFileSync(file, stale);
      const lock = acquireLock(file, dir);
      assert.equal(readFileSync(file, "utf8"), `${process.pid}\n`, JSON.stringify(stale));
      lock.release();
    }
  } finally {
    cleanup();
  }
});
