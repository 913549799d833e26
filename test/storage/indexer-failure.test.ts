/**
 * A store write that fails while the indexer reads its next batch (a full disk, a closed store) ends the
 * indexer through `onError`, never as an unhandled rejection: the write's promise is awaited only after that
 * read, and an unhandled rejection fails the daemon's tests at random (test/daemon/wal-failure.test.ts did,
 * under load, before the fix).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Indexer } from "../../src/storage/indexer.js";
import { Store } from "../../src/storage/store/store.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { makeFrames, tempDir } from "./helpers.js";

test("a failed store write during the next WAL read reaches onError, not unhandledRejection", async () => {
  const { dir, cleanup } = tempDir();
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on("unhandledRejection", onUnhandled);
  try {
    const walDir = join(dir, "wal");
    const { wal } = await Wal.open({ dir: walDir, fsync: "os" });
    makeFrames(1, 2000, 50).forEach((f, i) => wal.append(f, i + 1));
    await wal.flush();
    await wal.close();
    const store = await Store.open({ dir: join(dir, "store") });
    // Every write fails at once (as on a full disk) while the indexer reads on: ≈ 3 MB of frames, more than
    // its 1 MiB read buffer, so the next read waits on the disk.
    await store.close();
    const errors: unknown[] = [];
    const indexer = new Indexer(store, {
      walDir,
      maxBatchFrames: 5000,
      idleMs: 5,
      onError: (e) => errors.push(e),
    });
    indexer.start();
    for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await indexer.stop();
    await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 1, "onError got the failure");
    assert.equal((errors[0] as { code?: string }).code, "ERR_STORE_CLOSED");
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    cleanup();
  }
});
