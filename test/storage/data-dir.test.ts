/**
 * The data directory as a whole, through the real CLI in child processes: a daemon locks it (a second one is
 * refused with ERR_DATA_LOCKED naming the first's pid, and after kill -9 the stale lock is taken over), and a
 * directory that cannot be created fails fast with ERR_DATA_DIR instead of spinning. In process: what
 * openDataDir creates and refuses, and what existingDataDir calls a data directory.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { existingDataDir, openDataDir, type StorageError } from "../../src/storage/index.js";
import { cli } from "../recovery/helpers.js";
import { startDaemon, tempDir } from "../support/daemon.js";

/** Bounds every child run: Node's recursive mkdir spun forever on /proc (94 % CPU) before the fix. */
const CHILD_TIMEOUT_MS = 20_000;

test("a second daemon on the same data dir exits with ERR_DATA_LOCKED naming the first's pid; after kill -9 a new one takes the stale lock over", async () => {
  const dir = tempDir("tickring-lock-");
  try {
    const first = await startDaemon(dir.path, ["--workers", "1"]);
    const second = await cli(["serve", "--data", dir.path, "--port", "0", "--workers", "1"], {
      timeoutMs: CHILD_TIMEOUT_MS,
    });
    assert.equal(second.timedOut, false, "the second daemon did not exit");
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /ERR_DATA_LOCKED/);
    assert.match(second.stderr, new RegExp(`process ${first.child.pid}\\b`));
    assert.equal(second.stderr.trim().split("\n").length, 1, second.stderr);
    assert.equal(first.child.exitCode, null, "the first daemon still runs");

    await first.kill();
    const lock = join(dir.path, "tickring.lock");
    assert.ok(existsSync(lock), "kill -9 leaves the lock file behind");
    const third = await startDaemon(dir.path, ["--workers", "1"]);
    const health = await fetch(`http://127.0.0.1:${third.port}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await third.stop(), 0, third.stderr());
    assert.ok(!existsSync(lock), "a clean stop releases the lock");
  } finally {
    dir.remove();
  }
});

test("serve --data on a path that cannot be created fails fast with ERR_DATA_DIR naming it", async () => {
  const r = await cli(["serve", "--data", "/proc/tickring-test/data", "--port", "0"], {
    timeoutMs: CHILD_TIMEOUT_MS,
  });
  assert.equal(r.timedOut, false, "creating the data dir hung");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ERR_DATA_DIR/);
  assert.match(r.stderr, /\/proc\/tickring-test/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
});

test("openDataDir creates missing parents and refuses a file on the way; existingDataDir wants wal/ or store/", async () => {
  const dir = tempDir("tickring-datadir-");
  try {
    const data = join(dir.path, "a", "b", "data");
    const held = await openDataDir(data);
    assert.ok(existsSync(held.lockFile));
    held.release();
    assert.throws(
      () => existingDataDir(data),
      (e: StorageError) => e.code === "ERR_DATA_MISSING" && e.message.includes(data),
    );
    mkdirSync(held.walDir);
    assert.equal(existingDataDir(data).storeDir, join(data, "store"));
    assert.throws(
      () => existingDataDir(join(dir.path, "nope")),
      (e: StorageError) => e.code === "ERR_DATA_MISSING" && /does not exist/.test(e.message),
    );

    writeFileSync(join(dir.path, "file"), "");
    await assert.rejects(
      openDataDir(join(dir.path, "file", "data")),
      (e: StorageError) => e.code === "ERR_DATA_DIR" && /ENOTDIR/.test(e.message),
    );
  } finally {
    dir.remove();
  }
});
