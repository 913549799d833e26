/**
 * A node's own disk under replication, on real small file systems (skipped without root): a follower on a
 * full disk (a tmpfs) stops following, says DISK_FULL, and follows again once it has room; a leader whose
 * WAL fails for good (an ext4 image shut down: every call fails with EIO) steps down at once — the standby
 * leads without waiting for the lease to age out — and no acked tick is lost.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Client, type Daemon, tempDir } from "../support/daemon.js";
import { fillDisk } from "../storage/disk.js";
import { CrashOracle } from "../recovery/oracle.js";
import { mountFailingDisk, mountTmpfs } from "../support/tmpfs.js";
import {
  NO_NATS,
  type NatsServer,
  publishAcked,
  startNats,
  startNode,
  statsOf,
  until,
  untilLogged,
  untilWritten,
} from "./helpers.js";

/** Room enough for a daemon, and above the 64 MiB the writer waits for before it resumes. */
const DISK_BYTES = 160 * 1024 * 1024;

async function health(d: Daemon): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${d.port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("a follower on a full disk", { skip: NO_NATS }, () => {
  const fs = mountTmpfs(DISK_BYTES);
  const leaderDir = tempDir();
  let nats: NatsServer;
  let leader: Daemon;
  let follower: Daemon;
  const oracle = new CrashOracle();

  before(async () => {
    if (typeof fs === "string") return;
    nats = await startNats();
    leader = await startNode(leaderDir.path, "--replicate", nats);
    follower = await startNode(fs.path, "--follow", nats);
  });
  after(async () => {
    if (typeof fs === "string") return;
    for (const d of [leader, follower]) assert.equal(await d.stop(), 0, d.stderr());
    await nats.stop();
    leaderDir.remove();
    fs.remove();
  });

  test(
    "stops following, says DISK_FULL, and follows again from its own last seq once it has room",
    { skip: typeof fs === "string" ? fs : false },
    async () => {
      if (typeof fs === "string") return;
      const first = await publishAcked(leader, oracle, 40, 20);
      await untilWritten(follower, first);
      // A follower is healthy: it takes no ingest by design.
      const ok = await health(follower);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.ingest, "READ_ONLY");

      const filler = fillDisk(fs.path);
      const last = await publishAcked(leader, oracle, 200, 40);
      await untilLogged(
        follower,
        "stopped following the stream: the disk is full; following again once it has room",
      );
      const full = await statsOf(follower);
      assert.equal(full.replication.role, "failed");
      assert.ok(full.seq.written < last, "the follower wrote nothing on the full disk");
      const h = await health(follower);
      assert.equal(h.status, 503);
      assert.equal(h.body.reason, "DISK_FULL");
      // Publishers are still told it takes no ingest, and why.
      const pub = await Client.connect(follower.url("/v1/ingest"));
      pub.send({ id: "x", ticks: [{ type: "trade", symbol: "X", price: 1, size: 1 }] });
      assert.equal((await pub.nextOp("error")).code, "DISK_FULL");
      pub.close();

      rmSync(filler);
      await untilLogged(follower, "the disk has room again: following the stream");
      await untilWritten(follower, last);
      assert.equal((await statsOf(follower)).replication.role, "follower");
      assert.equal((await health(follower)).status, 200);
      for (const d of [leader, follower]) oracle.check(`${d.data}/wal`, last);
    },
  );
});

describe("a leader whose WAL fails for good", { skip: NO_NATS }, () => {
  const disk = mountFailingDisk(DISK_BYTES);
  const standbyDir = tempDir();
  let nats: NatsServer;
  let leader: Daemon;
  let standby: Daemon;
  const oracle = new CrashOracle();
  const args = ["--ack-after", "replicated"];

  before(async () => {
    if (typeof disk === "string") return;
    nats = await startNats();
    leader = await startNode(disk.path, "--replicate", nats, args);
    await untilLogged(leader, "leading: taking ingest");
    // A second candidate, not a --standby: it would take a free lease at once (a --standby waits 5 s after
    // its start), so the test sees the lease handed back rather than aged out.
    standby = await startNode(standbyDir.path, "--replicate", nats, args);
  });
  after(async () => {
    if (typeof disk === "string") return;
    // Its disk is dead: nothing it could still do at shutdown matters here.
    await leader.kill();
    assert.equal(await standby.stop(), 0, standby.stderr());
    await nats.stop();
    standbyDir.remove();
    disk.remove();
  });

  test(
    "steps down at once: the standby leads, and every acked tick is in its log",
    { skip: typeof disk === "string" ? disk : false },
    async (t) => {
      if (typeof disk === "string") return;
      const first = await publishAcked(leader, oracle, 60, 20);
      await untilWritten(standby, first);

      disk.shutDown();
      const pub = await Client.connect(leader.url("/v1/ingest"));
      pub.send({ id: "dead", ticks: [{ type: "trade", symbol: "X", price: 1, size: 1 }] });
      const refused = await pub.nextOp("error");
      assert.equal(refused.code, "IO_ERROR");
      pub.close();

      const stepped = await untilLogged(
        leader,
        "stepped down: this node's storage failed; it serves what it has and takes no ingest",
      );
      // The lease was handed back: the standby need not wait for it to age out (5 s from the last renewal).
      const led = await untilLogged(standby, "leading: taking ingest");
      t.diagnostic(
        `the standby led ${(led.time as number) - (stepped.time as number)} ms after the step-down`,
      );
      assert.ok((led.fromSeq as number) > first, "the new leader continues after every acked seq");
      const role = await statsOf(leader);
      assert.equal(role.replication.role, "failed");
      const h = await health(leader);
      assert.equal(h.status, 503);
      assert.equal(h.body.reason, "IO_ERROR");

      const last = await publishAcked(standby, oracle, 40, 20);
      await until(async () => (await statsOf(standby)).seq.durable >= last, "the new leader's acks");
      oracle.check(`${standby.data}/wal`, last);
    },
  );
});
