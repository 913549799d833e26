/**
 * A leader cut off from NATS (`--ack-after durable`, the default): it acks from its own WAL until its
 * lease may have lapsed, then refuses ingest; a standby takes over. When the link heals the old leader's
 * lease is gone and its appends are fenced: it steps down, starts again, cuts the seqs it never
 * replicated — durable-acked ticks a failover loses under this setting, as docs/operations.md says — and
 * follows the new leader, whose log it then holds byte for byte.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Daemon, tempDir } from "../support/daemon.js";
import { Publisher, tickOf } from "../recovery/helpers.js";
import {
  NO_NATS,
  type NatsServer,
  Partition,
  startNats,
  startNode,
  statsOf,
  until,
  untilLogged,
  untilWritten,
  walOf,
} from "./helpers.js";

describe("a partition between the leader and NATS", { skip: NO_NATS }, () => {
  const dirs = { a: tempDir(), b: tempDir() };
  let nats: NatsServer;
  let gate: Partition;
  let a: Daemon;
  let b: Daemon;

  before(async () => {
    nats = await startNats();
    gate = await Partition.to(nats.url);
    a = await startNode(dirs.a.path, "--replicate", gate.url);
    await untilLogged(a, "leading: taking ingest");
    b = await startNode(dirs.b.path, "--replicate", nats, ["--standby"]);
  });
  after(async () => {
    for (const d of [a, b]) assert.equal(await d.stop(), 0, d.stderr());
    await gate.close();
    await nats.stop();
    for (const d of Object.values(dirs)) d.remove();
  });

  test("the cut-off leader stops acking once its lease may lapse; after the heal it cuts its unreplicated tail and follows", async (t) => {
    const pub = await Publisher.connect(a.url("/v1/ingest"));
    pub.start(5);
    await pub.ackedAtLeast(200);
    gate.cut();
    const cutAt = Date.now();
    const led = await untilLogged(b, "leading: taking ingest");
    const fromSeq = led.fromSeq as number;
    await pub.stop();
    const refusedAt = a.logs.find(
      (l) => l.msg === "cannot renew the leader lease: refusing ingest until it is renewed",
    );
    assert.ok(refusedAt !== undefined, "the cut-off leader refused ingest once its lease might lapse");
    t.diagnostic(
      `refused ingest ${(refusedAt.time as number) - cutAt} ms after the cut; the standby led ${(led.time as number) - cutAt} ms after it`,
    );
    // Acked by the cut-off leader and never replicated: what --ack-after durable can lose.
    const lost = [...pub.acked.keys()].filter((seq) => seq >= fromSeq);
    assert.ok(lost.length > 0, "the cut-off leader acked ticks the stream never got");
    pub.close();

    const after = await Publisher.connect(b.url("/v1/ingest"));
    for (let m = 0; m < 20; m++) after.send(3);
    await after.drain();
    after.close();
    const last = Math.max(...after.acked.keys());

    gate.heal();
    const stepped = await untilLogged(a, "stepping down: another node leads");
    assert.ok((stepped.unreplicated as number) > 0);
    const cut = await untilLogged(
      a,
      "WAL cut: those seqs never reached the stream, whose own take their place",
    );
    assert.equal(cut.after, fromSeq - 1, "cut right after the last seq the stream had");
    await until(async () => (await statsOf(a)).replication.role === "standby", "the old leader following");
    await untilWritten(a, last);

    const mine = walOf(a);
    const theirs = walOf(b);
    assert.equal(mine.length, last);
    assert.ok(
      mine.every((f, i) => f.equals(theirs[i])),
      "the old leader holds the new leader's log, byte for byte",
    );
    for (const [seq, tick] of pub.acked) {
      if (seq < fromSeq) assert.equal(tickOf(theirs[seq - 1]).id, tick.id, `acked seq ${seq} kept`);
    }
    for (const [seq, tick] of after.acked) assert.equal(tickOf(theirs[seq - 1]).id, tick.id);
    const ids = new Set(theirs.map((f) => tickOf(f).id));
    assert.ok(
      lost.every((seq) => !ids.has(pub.acked.get(seq)!.id)),
      "the lost ticks are in no log",
    );
  });
});

describe("a lone leader that was cut off from NATS", { skip: NO_NATS }, () => {
  const dirs = { a: tempDir(), f: tempDir() };
  let nats: NatsServer;
  let gate: Partition;
  let a: Daemon;
  let f: Daemon;

  before(async () => {
    nats = await startNats();
    gate = await Partition.to(nats.url);
    a = await startNode(dirs.a.path, "--replicate", gate.url);
    await untilLogged(a, "leading: taking ingest");
    f = await startNode(dirs.f.path, "--follow", nats);
  });
  after(async () => {
    for (const d of [a, f]) assert.equal(await d.stop(), 0, d.stderr());
    await gate.close();
    await nats.stop();
    for (const d of Object.values(dirs)) d.remove();
  });

  test("keeps what it acked meanwhile when it leads again, and replicates it", async () => {
    const pub = await Publisher.connect(a.url("/v1/ingest"));
    pub.start(5);
    await pub.ackedAtLeast(100);
    gate.cut();
    const replicated = (await statsOf(a)).replication.replicatedSeq;
    // It acks from its WAL (--ack-after durable) for a while yet: let it, then kill it.
    await until(() => Math.max(...pub.acked.keys()) > replicated + 50, "acks the stream lacks");
    await a.kill();
    await pub.stop();
    pub.close();
    const last = Math.max(...pub.acked.keys());
    gate.heal();
    // Started again at once, it finds its own lease (its last life's) still held: it follows, and leads
    // once that lapses. Nobody else appended meanwhile, so its tail is the log's: nothing is cut.
    a = await startNode(dirs.a.path, "--replicate", nats);
    const led = await untilLogged(a, "leading: taking ingest");
    // (Batches in flight at the cut may have landed without their acknowledgement reaching it.)
    const fromSeq = led.fromSeq as number;
    assert.ok(fromSeq > replicated && fromSeq <= last, `it replicates its tail first, from ${fromSeq}`);
    assert.equal(
      a.logs.find((l) => String(l.msg).startsWith("WAL cut")),
      undefined,
    );
    await untilWritten(f, last);
    const theirs = walOf(f);
    for (const [seq, tick] of pub.acked)
      assert.equal(tickOf(theirs[seq - 1]).id, tick.id, `acked seq ${seq}`);
  });
});
