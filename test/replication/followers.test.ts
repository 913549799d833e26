/**
 * A leader and two followers on a real nats-server: every acked tick reaches each follower once, at the
 * same seq with the same bytes; ingest on a follower is refused naming the leader; a follower killed and
 * restarted catches up; a live replay on a follower sees no gap while the leader ingests.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, type Daemon, framesOf, tempDir } from "../support/daemon.js";
import { Publisher, tickOf } from "../recovery/helpers.js";
import { CrashOracle } from "../recovery/oracle.js";
import {
  NO_NATS,
  type NatsServer,
  publishAcked,
  startNats,
  startNode,
  statsOf,
  until,
  untilWritten,
  walOf,
} from "./helpers.js";

describe("a leader and two followers", { skip: NO_NATS }, () => {
  const dirs = [tempDir(), tempDir(), tempDir()];
  let nats: NatsServer;
  let leader: Daemon;
  let followers: Daemon[];
  const oracle = new CrashOracle();

  before(async () => {
    nats = await startNats();
    leader = await startNode(dirs[0].path, "--replicate", nats);
    followers = await Promise.all([1, 2].map((i) => startNode(dirs[i].path, "--follow", nats)));
  });
  after(async () => {
    for (const d of [leader, ...followers]) assert.equal(await d.stop(), 0, d.stderr());
    await nats.stop();
    for (const d of dirs) d.remove();
  });

  const publish = (messages: number) => publishAcked(leader, oracle, messages, 40);

  /** Every node's WAL holds the acked ticks at their seqs, gap-free, once each — the same bytes everywhere. */
  function checkAll(nodes: Daemon[], last: number): void {
    for (const d of nodes) {
      oracle.check(`${d.data}/wal`, last);
    }
  }

  test("every acked tick appears on each follower once, at the same seq, with the same bytes", async () => {
    const last = await publish(60);
    await Promise.all(followers.map((f) => untilWritten(f, last)));
    checkAll([leader, ...followers], last);
    const named = `ws://127.0.0.1:${leader.port}`;
    await until(async () => (await statsOf(followers[0])).replication.leader === named, "the leader named");
    const [l, f] = await Promise.all([statsOf(leader), statsOf(followers[0])]);
    assert.equal(l.replication.role, "leader");
    assert.equal(l.replication.replicatedSeq, last, "the stream acknowledged every seq");
    assert.equal(f.replication.role, "follower");
    assert.equal(f.replication.replicatedSeq, last);
  });

  test("ingest on a follower is refused with READ_ONLY naming the leader", async () => {
    const pub = await Client.connect(followers[0].url("/v1/ingest"));
    pub.send({ id: "x", ticks: [{ type: "trade", symbol: "RO", price: 1, size: 1 }] });
    const refused = await pub.nextOp("error");
    assert.equal(refused.code, "READ_ONLY");
    assert.equal(refused.id, "x");
    assert.match(
      String(refused.message),
      new RegExp(`publish to the leader at ws://127\\.0\\.0\\.1:${leader.port}/v1/ingest`),
    );
    pub.close();
  });

  test("a follower killed and restarted catches up from where its WAL ends", async () => {
    await followers[1].kill();
    // Small batches (one tick per message, few in flight), then big ones: a follower pulling by bytes
    // once stalled where the batches grew.
    const pub = await Publisher.connect(leader.url("/v1/ingest"));
    const from = (await statsOf(leader)).seq.written;
    for (let m = 0; m < 2000; m++) {
      pub.send(1);
      if (m % 20 === 19) await pub.drain();
    }
    for (let m = 0; m < 100; m++) pub.send(100);
    await pub.drain();
    pub.close();
    oracle.absorb(pub, from, pub.sentIds);
    const last = Math.max(...pub.acked.keys());
    followers[1] = await startNode(dirs[2].path, "--follow", nats);
    await untilWritten(followers[1], last);
    checkAll(followers, last);
  });

  test("a live replay on a follower sees every seq once, no gap, while the leader ingests", async () => {
    const sub = await Client.connect(followers[0].url("/v1/feed"));
    sub.send({ op: "subscribe", id: 1, symbols: ["*"], feed: "historical", from: { seq: 1 }, live: true });
    await sub.nextOp("subscribed");
    // The replay starts while the leader publishes, so it joins the live feed mid-stream.
    const publishing = publish(300);
    const last = await publishing;
    await sub.until(() => {
      const frames = framesOf(sub.binary);
      return frames.length > 0 && tickOf(frames[frames.length - 1]).seq >= last;
    }, `seq ${last} on the subscriber`);
    const seqs = framesOf(sub.binary).map((f) => tickOf(f).seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      "every seq from 1, once, in order",
    );
    assert.equal(sub.text.filter((m) => m.op === "gap").length, 0, "no gap");
    sub.close();
    assert.deepEqual(walOf(followers[0]).length, last);
  });
});
