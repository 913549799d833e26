/**
 * The dashboard's data layer for /v1/stats against payloads recorded from real daemons (fixtures/: a demo
 * daemon with two workers read twice a second apart while a `*` subscriber was connected to worker 1; a
 * fresh daemon with nothing ingested; the leader, under the demo feed, and the follower of a replication
 * group on a real nats-server).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { readStats, statsView } from "../../src/dashboard/stats.js";

function fixture(name: string): unknown {
  return JSON.parse(
    readFileSync(new URL(`../../../test/dashboard/fixtures/${name}.json`, import.meta.url), "utf8"),
  );
}

describe("dashboard stats", () => {
  const first = readStats(fixture("stats-demo-1"));
  const second = readStats(fixture("stats-demo-2"));
  const raw2 = fixture("stats-demo-2") as {
    seq: { durable: number };
    ingest: { ratePerSec: number };
    workers: { framesSent: number; bytesSent: number; connections: number }[];
    wal: { fsync: { p50Ms: number; p99Ms: number } };
    disk: { walBytes: number; storeBytes: number; freeBytes: number };
    history: { oldestSeq: number; oldestTime: string };
  };
  const raw1 = fixture("stats-demo-1") as typeof raw2;

  test("a first reading shows counts and no rates", () => {
    const v = statsView(first, 1_000_000);
    assert.equal(v.ackedSeq, raw1.seq.durable);
    assert.equal(v.ingestPerSec, raw1.ingest.ratePerSec);
    assert.equal(v.workers.length, 2);
    assert.equal(v.framesPerSec, null);
    assert.ok(v.workers.every((w) => w.framesPerSec === null && w.bytesPerSec === null));
  });

  test("rates per worker and in total come from the counters' deltas over the time between readings", () => {
    const v = statsView(second, 2_000, { reading: first, at: 0 });
    for (const w of [0, 1]) {
      const frames = (raw2.workers[w].framesSent - raw1.workers[w].framesSent) / 2;
      const bytes = (raw2.workers[w].bytesSent - raw1.workers[w].bytesSent) / 2;
      assert.equal(v.workers[w].framesPerSec, frames);
      assert.equal(v.workers[w].bytesPerSec, bytes);
    }
    assert.ok(v.workers[1].framesPerSec! > 0, "the recorded subscriber was served by worker 1");
    assert.equal(v.workers[0].framesPerSec, 0);
    assert.equal(v.framesPerSec, v.workers[0].framesPerSec! + v.workers[1].framesPerSec!);
    assert.equal(v.clients, raw2.workers[0].connections + raw2.workers[1].connections);
  });

  test("a worker whose counters went down (replaced after a failure) has no rate for that interval", () => {
    const replaced = structuredClone(second);
    replaced.workers[1].framesSent = 10;
    replaced.workers[1].bytesSent = 100;
    const v = statsView(replaced, 1_000, { reading: first, at: 0 });
    assert.equal(v.workers[1].framesPerSec, null);
    assert.equal(v.workers[1].bytesPerSec, null);
    assert.equal(
      v.framesPerSec,
      v.workers[0].framesPerSec,
      "the total is over the workers whose rate is known",
    );
  });

  test("WAL, disk and the retention window", () => {
    const oldest = Date.parse(raw2.history.oldestTime);
    const v = statsView(second, oldest + 90_000, { reading: first, at: oldest });
    assert.equal(v.wal.fsyncP50Ms, raw2.wal.fsync.p50Ms);
    assert.equal(v.wal.fsyncP99Ms, raw2.wal.fsync.p99Ms);
    assert.ok(v.wal.segments >= 1);
    assert.deepEqual(v.disk, {
      usedBytes: raw2.disk.walBytes + raw2.disk.storeBytes,
      freeBytes: raw2.disk.freeBytes,
    });
    assert.deepEqual(v.retention, { ...raw2.history, ageMs: 90_000 });
    assert.equal(v.replication, null, "a daemon without --replicate/--follow has no replication panel");
  });

  test("a fresh daemon: no history, no fsync yet", () => {
    const v = statsView(readStats(fixture("stats-empty")), 0);
    assert.equal(v.ackedSeq, 0);
    assert.equal(v.retention, null);
    assert.equal(v.wal.fsyncP50Ms, null);
    assert.equal(v.wal.fsyncP99Ms, null);
    assert.equal(v.workers.length, 1);
  });

  test("a daemon without the figures this page added shows the rest; a broken payload names what is wrong", () => {
    const older = structuredClone(fixture("stats-demo-2")) as Record<string, unknown>;
    delete older.disk;
    (older.wal as Record<string, unknown>).fsync = undefined;
    const v = statsView(readStats(older), 0);
    assert.equal(v.disk, null);
    assert.equal(v.wal.fsyncP99Ms, null);
    const broken = structuredClone(fixture("stats-demo-2")) as { workers: Record<string, unknown>[] };
    broken.workers[1].framesSent = "many";
    assert.throws(() => readStats(broken), /workers\[1\]\.framesSent is not a number/);
    assert.throws(() => readStats([]), /stats: stats is not an object/);
  });

  test("replication: a leader's and a follower's figures", () => {
    for (const role of ["leader", "follower"]) {
      const raw = fixture(`stats-${role}`) as { replication: Record<string, unknown> };
      const v = statsView(readStats(raw), 0);
      assert.equal(v.replication?.role, role);
      assert.deepEqual(v.replication, {
        role,
        stream: raw.replication.stream,
        node: raw.replication.node,
        leader: raw.replication.leader,
        ackAfter: raw.replication.ackAfter,
        replicatedSeq: raw.replication.replicatedSeq,
        lagSeqs: raw.replication.lagSeqs,
        lagMs: raw.replication.lagMs,
      });
    }
  });
});
