/**
 * A store write that fails (a full disk) does not stop the indexer: it retries from the checkpoint and
 * catches up once space returns, with the store equal to the WAL. On a real small tmpfs (skipped without one).
 */
import assert from "node:assert/strict";
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { StorageError } from "../../src/storage/errors.js";
import { Indexer } from "../../src/storage/indexer.js";
import { Store } from "../../src/storage/store/store.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { mountTmpfs } from "../support/tmpfs.js";
import { fillDisk } from "./disk.js";
import { collect, makeFrames, tempDir } from "./helpers.js";

const fs = mountTmpfs(4 * 1024 * 1024);
/** ≈ 1.4 MB of blocks (every frame is in a seq block and a time block): fits the tmpfs once freed. */
const N = 3000;

test(
  "the indexer retries a store write that failed with a full disk, and catches up when space returns",
  { skip: typeof fs === "string" ? fs : false },
  async () => {
    if (typeof fs === "string") return;
    const { dir, cleanup } = tempDir();
    try {
      const frames = makeFrames(1, N, 2);
      const { wal } = await Wal.open({ dir: join(dir, "wal"), fsync: "os" });
      for (const [i, f] of frames.entries()) wal.append(f, i + 1);
      await wal.flush();
      const store = await Store.open({ dir: join(fs.path, "store") });
      const filler = fillDisk(fs.path);
      const retries: unknown[] = [];
      const indexer = new Indexer(store, {
        walDir: join(dir, "wal"),
        maxBatchFrames: 500,
        onRetry: (err) => {
          // Space returns after the first failed attempt.
          if (retries.push(err) === 1) unlinkSync(filler);
        },
        onError: (err) => assert.fail(`the indexer stopped: ${String(err)}`),
      });
      indexer.start();
      await indexer.waitFor(N);
      await indexer.stop();
      assert.ok(retries.length >= 1, `retried ${retries.length} times`);
      assert.equal((retries[0] as StorageError).code, "ERR_STORE_IO");
      const seqs: number[] = [];
      const got: Uint8Array[] = [];
      for await (const b of store.readBySeq(1, N)) collect(b, seqs, got, true);
      assert.deepEqual(got, frames, "the store holds every frame once, in order");
      await store.close();
      await wal.close();
    } finally {
      cleanup();
      fs.remove();
    }
  },
);
