/**
 * The figures /v1/stats gained for the dashboard, from a real daemon under its demo feed: the WAL's size and
 * its fdatasync p50/p99 over the last minute, and the data directory's disk use and free space.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startDaemon, suiteDaemon, tempDir } from "../support/daemon.js";

interface Stats {
  wal: {
    segments: number;
    bytes: number;
    fsync: { p50Ms: number | null; p99Ms: number | null; count: number };
  };
  disk: { walBytes: number; storeBytes: number; freeBytes: number };
}

describe("/v1/stats", () => {
  const daemon = suiteDaemon(["--demo", "5:500", "--workers", "1"]);

  test("fdatasync latency, WAL size, disk use and free space", async () => {
    const url = `http://127.0.0.1:${daemon().port}/v1/stats`;
    let stats: Stats | undefined;
    for (let i = 0; i < 600; i++) {
      stats = (await (await fetch(url)).json()) as Stats;
      if (stats.wal.fsync.count > 0 && stats.wal.bytes > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { wal, disk } = stats!;
    assert.ok(wal.fsync.count > 0, "the demo feed's ticks were synced");
    assert.ok(wal.fsync.p50Ms !== null && wal.fsync.p50Ms > 0, `p50 ${wal.fsync.p50Ms}`);
    assert.ok(wal.fsync.p99Ms !== null && wal.fsync.p99Ms >= wal.fsync.p50Ms, `p99 ${wal.fsync.p99Ms}`);
    assert.ok(wal.segments >= 1 && wal.bytes > 0);
    assert.equal(disk.walBytes, wal.bytes);
    assert.ok(disk.storeBytes >= 0);
    assert.ok(disk.freeBytes > 0);
  });

  test("a daemon that synced nothing has no latency to tell (null, not 0 ms)", async () => {
    const dir = tempDir();
    try {
      const idle = await startDaemon(dir.path, ["--workers", "1"]);
      const stats = (await (await fetch(`http://127.0.0.1:${idle.port}/v1/stats`)).json()) as Stats;
      assert.deepEqual(stats.wal.fsync, { p50Ms: null, p99Ms: null, count: 0 });
      assert.equal(await idle.stop(), 0);
    } finally {
      dir.remove();
    }
  });
});
