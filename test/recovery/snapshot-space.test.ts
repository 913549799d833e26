/**
 * Snapshots check free space before they write: a target file system with less room than the snapshot will
 * take is refused with DISK_FULL naming how much is needed and free, offline (the CLI, exit 1) and online
 * (the API a daemon uses), and nothing is left behind. On a real small tmpfs (skipped without one).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createSnapshot } from "../../src/recovery/index.js";
import { Indexer, Store, Wal } from "../../src/storage/index.js";
import { makeFrames } from "../storage/helpers.js";
import { tempDir } from "../support/daemon.js";
import { mountTmpfs } from "../support/tmpfs.js";
import { cli } from "./helpers.js";

const fs = mountTmpfs(1024 * 1024);
const skip = typeof fs === "string" ? fs : false;

/** A data dir of ≈ 3 MB of WAL and a store holding all of it. */
async function dataDir(path: string): Promise<Wal> {
  const { wal } = await Wal.open({ dir: join(path, "wal"), fsync: "os", segmentBytes: 1 << 20 });
  const frames = makeFrames(1, 12_000, 2);
  for (const [i, f] of frames.entries()) wal.append(f, i + 1);
  await wal.flush();
  const store = await Store.open({ dir: join(path, "store"), multithreading: true });
  const indexer = new Indexer(store, { walDir: join(path, "wal") });
  indexer.start();
  await indexer.waitFor(frames.length);
  await indexer.stop();
  await store.close();
  return wal;
}

test(
  "a snapshot that would not fit is refused with DISK_FULL before it writes anything",
  { skip },
  async () => {
    if (typeof fs === "string") return;
    const dir = tempDir("tickring-snapspace-");
    try {
      const data = join(dir.path, "data");
      const wal = await dataDir(data);
      await wal.close();
      const out = join(fs.path, "snap");
      const r = await cli(["snapshot", "create", "--data", data, "--out", out]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^tickring: DISK_FULL: a snapshot of .* needs about \d+\.\d MiB in .*tickring-tmpfs-[^,]*, which has \d+\.\d MiB free\n$/,
      );
      assert.deepEqual(readdirSync(fs.path), [], "no partial snapshot left behind");
      // With room (its default place, on the data dir's disk), the same snapshot succeeds.
      const ok = await cli(["snapshot", "create", "--data", data]);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      dir.remove();
    }
  },
);

test("an online snapshot checks the same way", { skip }, async () => {
  if (typeof fs === "string") return;
  const dir = tempDir("tickring-snapspace-");
  try {
    const data = join(dir.path, "data");
    const wal = await dataDir(data);
    const out = join(fs.path, "online");
    await assert.rejects(createSnapshot({ data, liveWal: wal, out }), (err: Error & { code: string }) => {
      assert.equal(err.code, "DISK_FULL");
      assert.match(err.message, /needs about .* MiB in .*, which has .* MiB free/);
      return true;
    });
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(fs.path), []);
    await wal.close();
  } finally {
    dir.remove();
    fs.remove();
  }
});
