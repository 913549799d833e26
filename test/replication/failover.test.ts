/**
 * Failover under ingest with `--ack-after replicated`: kill -9 of the leader while a publisher sends; the
 * standby takes the lapsed lease and leads, and every acked tick is in its log and on the follower exactly
 * once, seqs continuing. The old leader, restarted, finds the lease taken, cuts what it never replicated,
 * and follows.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, type Daemon, tempDir } from "../support/daemon.js";
import { Publisher } from "../recovery/helpers.js";
import { CrashOracle } from "../recovery/oracle.js";
import {
  NO_NATS,
  type NatsServer,
  startNats,
  startNode,
  statsOf,
  until,
  untilLogged,
  untilWritten,
} from "./helpers.js";

const ACK_AFTER_REPLICATED = ["--ack-after", "replicated"];

describe("failover", { skip: NO_NATS }, () => {
  const dirs = { a: tempDir(), b: tempDir(), c: tempDir() };
  let nats: NatsServer;
  let a: Daemon;
  let b: Daemon;
  let c: Daemon;
  const oracle = new CrashOracle();

  before(async () => {
    nats = await startNats();
    a = await startNode(dirs.a.path, "--replicate", nats, ACK_AFTER_REPLICATED);
    await untilLogged(a, "leading: taking ingest");
    b = await startNode(dirs.b.path, "--replicate", nats, ["--standby", ...ACK_AFTER_REPLICATED]);
    c = await startNode(dirs.c.path, "--follow", nats);
  });
  after(async () => {
    for (const d of [a, b, c]) assert.equal(await d.stop(), 0, d.stderr());
    await nats.stop();
    for (const d of Object.values(dirs)) d.remove();
  });

  test("kill -9 of the leader under ingest: the standby leads, and every acked tick is in its log and the follower's once, seqs continuing", async (t) => {
    const before = await Publisher.connect(a.url("/v1/ingest"));
    before.start();
    await before.ackedAtLeast(2000);
    await a.kill();
    const killedAt = Date.now();
    await before.stop();
    before.close();
    oracle.absorb(before, 0, before.sentIds);

    const led = await untilLogged(b, "leading: taking ingest");
    t.diagnostic(`the standby took ingest ${(led.time as number) - killedAt} ms after the kill`);
    const fromSeq = led.fromSeq as number;
    assert.ok(fromSeq > Math.max(...before.acked.keys()), "the new leader continues after every acked seq");

    const afterwards = await Publisher.connect(b.url("/v1/ingest"));
    for (let m = 0; m < 50; m++) afterwards.send(1 + (m % 20));
    await afterwards.drain();
    afterwards.close();
    oracle.absorb(afterwards, fromSeq - 1, afterwards.sentIds);
    const last = Math.max(...afterwards.acked.keys());

    await untilWritten(c, last);
    oracle.check(`${b.data}/wal`, last);
    oracle.check(`${c.data}/wal`, last);
    // The follower reads the lease every 500 ms: it names the new leader within that, not at once.
    const leader = `ws://127.0.0.1:${b.port}`;
    await until(
      async () => (await statsOf(c)).replication.leader === leader,
      "the follower naming the leader",
    );
  });

  test("the old leader, restarted, is fenced: it cuts what it never replicated and follows the new one", async (t) => {
    a = await startNode(dirs.a.path, "--replicate", nats, ACK_AFTER_REPLICATED);
    const joined = await untilLogged(a, "joined the replication group");
    assert.equal(joined.lease, "held elsewhere, or standby");
    const cut = a.logs.find((l) => String(l.msg).startsWith("WAL cut"));
    t.diagnostic(
      cut === undefined ? "its WAL held nothing unreplicated" : `it cut ${cut.seqs} unreplicated seqs`,
    );
    await untilLogged(a, "following the stream");
    const last = (await statsOf(b)).seq.written;
    await untilWritten(a, last);
    oracle.check(`${a.data}/wal`, last);

    const pub = await Client.connect(a.url("/v1/ingest"));
    pub.send([{ type: "trade", symbol: "OLD", price: 1, size: 1 }]);
    const refused = await pub.nextOp("error");
    assert.equal(refused.code, "READ_ONLY");
    pub.close();
    assert.equal((await statsOf(a)).replication.role, "standby");
  });
});
