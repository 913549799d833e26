/**
 * Who leads: of two leaders started at once one wins and the other follows; a leader paused past its
 * lease finds, when it resumes, that another leads — its appends are fenced — and steps down to follow
 * it; a stream that does not fit what a leader asks for is refused at start.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client, type Daemon, tempDir } from "../support/daemon.js";
import { Publisher, type SentTick } from "../recovery/helpers.js";
import { CrashOracle } from "../recovery/oracle.js";
import { oneLine, run } from "../cli/run.js";
import {
  NO_NATS,
  publishAcked,
  type NatsServer,
  startNats,
  startNode,
  statsOf,
  until,
  untilLogged,
  untilWritten,
} from "./helpers.js";

describe("fencing", { skip: NO_NATS }, () => {
  const dirs = [tempDir(), tempDir()];
  let nats: NatsServer;
  let nodes: Daemon[];
  const oracle = new CrashOracle();

  before(async () => {
    nats = await startNats();
  });
  after(async () => {
    for (const d of nodes) assert.equal(await d.stop(), 0, d.stderr());
    await nats.stop();
    for (const d of dirs) d.remove();
  });

  /** The node that leads and the one that does not, once one leads. */
  async function roles(): Promise<{ leader: Daemon; other: Daemon }> {
    await until(async () => {
      const r = await Promise.all(nodes.map(async (d) => (await statsOf(d)).replication.role));
      return r.includes("leader") && r.includes("standby");
    }, "one leader and one standby");
    const leads = (await statsOf(nodes[0])).replication.role === "leader";
    return leads ? { leader: nodes[0], other: nodes[1] } : { leader: nodes[1], other: nodes[0] };
  }

  const publish = (d: Daemon, messages: number) => publishAcked(d, oracle, messages, 10);

  test("two leaders started at once: one wins, the other follows it", async () => {
    nodes = await Promise.all(dirs.map((d) => startNode(d.path, "--replicate", nats)));
    const { leader, other } = await roles();
    const last = await publish(leader, 40);
    await untilWritten(other, last);
    for (const d of nodes) oracle.check(`${d.data}/wal`, last);
  });

  test("a leader paused past its lease is fenced when it resumes, steps down, and follows", async (t) => {
    const { leader: paused, other } = await roles();
    // A message sent to the paused leader reaches it only when it resumes, after the other took over: it
    // is acked only if it is in the stream, and is in no log otherwise.
    const late = await Client.connect(paused.url("/v1/ingest"));
    late.ws.on("error", () => {});
    const ids = [1, 2, 3, 4, 5].map((i) => 1e9 + i);
    paused.child.kill("SIGSTOP");
    late.send(ids.map((id) => ({ type: "trade", symbol: "LATE", price: 1, size: id })));
    const led = await untilLogged(other, "leading: taking ingest");
    assert.ok((led.fromSeq as number) > 0);
    const last = await publish(other, 30);
    paused.child.kill("SIGCONT");
    const stepped = await untilLogged(paused, "stepping down: another node leads");
    t.diagnostic(`${stepped.why}; ${stepped.unreplicated} seqs unreplicated`);
    await late.until(() => late.text.length > 0 || late.closeCode !== undefined, "the late message's fate");
    const reply = late.text[0];
    t.diagnostic(`the late message: ${JSON.stringify(reply ?? { closed: late.closeCode })}`);
    // Its lease ran out while it was paused: whatever its timers have not said yet, it acks nothing.
    assert.notEqual(reply?.op, "ack", "a leader paused past its lease acked a message");
    oracle.absorb({ acked: new Map<number, SentTick>() } as Publisher, 0, ids);
    late.close();
    await until(
      async () => (await statsOf(paused)).replication.role === "standby",
      "the old leader following",
    );
    const end = last;
    await untilWritten(paused, end);
    await untilWritten(other, end);
    for (const d of nodes) oracle.check(`${d.data}/wal`, end);
  });

  test("a stream that does not fit what a leader asks for is refused at start (exit 1, one line)", async () => {
    const r = await run([
      "serve",
      "--port",
      "0",
      "--data",
      join(dirs[0].path, "other"),
      "--replicate",
      nats.url,
      "--stream-replicas",
      "3",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      oneLine(r),
      /^tickring: ERR_REPLICATION: stream tickring: does not fit: it has 1 replicas, not the 3 asked for/,
    );
  });
});
