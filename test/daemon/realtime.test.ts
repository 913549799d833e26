import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FrameEncoder, FrameView, frameSeq, type Tick } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { openWalReader } from "../../src/storage/index.js";
import { WS_SHARES_PORT } from "../../src/transport/ws-transport.js";
import { Client, type Daemon, framesOf, servedOn, startDaemon, tempDir } from "../support/daemon.js";

const SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN"];

function ticks(n: number, from = 0): Tick[] {
  return Array.from({ length: n }, (_, i) => ({
    type: "trade" as const,
    symbol: SYMBOLS[(from + i) % SYMBOLS.length],
    price: 100 + from + i,
    size: from + i + 1,
    tsEvent: 1_763_900_000_000_000_000n + BigInt(from + i),
  }));
}

/** The JSON ingest form of a tick. */
function json(t: Tick & { type: "trade" }): Record<string, unknown> {
  return { type: "trade", symbol: t.symbol, price: t.price, size: t.size, ts_event: String(t.tsEvent) };
}

describe("real-time feed end to end", () => {
  const dir = tempDir();
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon(dir.path, ["--fsync", "batch"]);
  });
  after(async () => {
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  });

  test("ticks ingested as JSON and binary reach subscribers in seq order, filtered by symbol", async () => {
    const all = await Client.connect(daemon.url("/v1/feed"));
    const aapl = await Client.connect(daemon.url("/v1/feed"));
    all.send({ op: "subscribe", id: 1, symbols: ["*"] });
    aapl.send({ op: "subscribe", id: 7, symbols: ["AAPL"], format: "json" });
    await all.nextOp("subscribed");
    await aapl.nextOp("subscribed");

    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const sent = ticks(400);
    pub.send(sent.slice(0, 200).map((t) => json(t as Tick & { type: "trade" })));
    const enc = new FrameEncoder();
    const binary = Buffer.concat(sent.slice(200).map((t) => Buffer.from(enc.encode(t, 0n, 0n))));
    pub.send(binary);
    await pub.until(() => pub.text.filter((m) => m.op === "ack").length === 2, "two acks");
    const acks = pub.text.filter((m) => m.op === "ack").map((m) => m.seq);
    assert.deepEqual(acks, [200, 400]);

    await all.until(() => framesOf(all.binary).length >= 400, "400 frames");
    const view = new FrameView();
    const got = framesOf(all.binary).map((f) => frameToObject(view.wrap(f)));
    assert.deepEqual(
      got.map((f) => f.seq),
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    got.forEach((f, i) => {
      const t = sent[i] as Tick & { type: "trade" };
      assert.deepEqual(
        [f.symbol, f.price, f.size, f.ts_event],
        [t.symbol, t.price, t.size, String(t.tsEvent)],
      );
    });

    await aapl.until(() => aapl.text.filter((m) => m.op === undefined).length >= 100, "100 AAPL frames");
    const aaplFrames = aapl.text.filter((m) => m.op === undefined);
    assert.ok(aaplFrames.every((f) => f.symbol === "AAPL"));
    assert.deepEqual(
      aaplFrames.map((f) => f.seq),
      Array.from({ length: 100 }, (_, i) => 1 + i * 4),
    );
    for (const c of [all, aapl, pub]) c.close();
  });

  test("a new subscriber first gets the last value of each of its symbols", async () => {
    const c = await Client.connect(daemon.url("/v1/feed"));
    c.send({ op: "subscribe", id: 1, symbols: ["MSFT", "NVDA"] });
    await c.until(() => framesOf(c.binary).length >= 2, "two last values");
    const seqs = framesOf(c.binary).map((f) => frameSeq(f, 0));
    // The last MSFT tick was the 398th (seq 398), the last NVDA the 399th.
    assert.deepEqual(seqs.sort(), [398, 399]);
    c.close();
  });

  test("bad requests get an error and the connection stays usable", async () => {
    const feed = await Client.connect(daemon.url("/v1/feed"));
    feed.send("{not json");
    feed.send({ op: "dance" });
    feed.send({ op: "subscribe", id: 1, symbols: 5 });
    feed.send({ op: "subscribe", id: 2, symbols: ["*"], feed: "sideways" });
    feed.send({ op: "unsubscribe", id: 99 });
    feed.send({ op: "ping" });
    await feed.nextOp("pong");
    const errors = feed.text.filter((m) => m.op === "error");
    assert.deepEqual(
      errors.map((e) => e.code),
      ["BAD_JSON", "UNKNOWN_OP", "BAD_REQUEST", "BAD_REQUEST", "BAD_REQUEST"],
    );
    assert.match(String(errors[2].message), /symbols/);
    assert.match(String(errors[3].message), /sideways/);

    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const before = (await ackOf(pub, [json(ticks(1)[0] as Tick & { type: "trade" })])) as number;
    pub.send("[{");
    pub.send({ type: "trade", symbol: "X", price: "1.5", size: 1 });
    pub.send([
      { type: "trade", symbol: "X", price: 1, size: 1 },
      { type: "quote", symbol: "X", bid_price: 1 },
    ]);
    pub.send({ type: "swap", symbol: "X" });
    pub.send(Buffer.from([8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]));
    pub.send(Buffer.from([200, 0, 0, 0, 1, 2]));
    await pub.until(() => pub.text.filter((m) => m.op === "error").length === 6, "six errors");
    const codes = pub.text.filter((m) => m.op === "error").map((m) => m.code);
    assert.deepEqual(codes, ["BAD_JSON", "BAD_TICK", "BAD_TICK", "BAD_TICK", "BAD_FRAME", "BAD_FRAME"]);
    assert.match(
      String(pub.text.find((m) => m.code === "BAD_TICK")!.message),
      /tick\.price: expected a finite number, got "1.5"/,
    );
    // Nothing of a rejected message was applied: the next tick follows the last good one.
    const next = await ackOf(pub, [json(ticks(1)[0] as Tick & { type: "trade" })]);
    assert.equal(next, before + 1);
    for (const c of [feed, pub]) c.close();
  });

  test("protocol violations close only that connection, with a close code", async () => {
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    pub.send(Buffer.alloc(2 * 1024 * 1024, 1));
    await pub.until(() => pub.closeCode !== undefined, "close");
    assert.equal(pub.closeCode, 1006 === pub.closeCode ? 1006 : 1009);

    const feed = await Client.connect(daemon.url("/v1/feed"));
    feed.send(Buffer.from([1, 2, 3]));
    await feed.until(() => feed.closeCode !== undefined, "close");
    assert.equal(feed.closeCode, 1003);
    assert.match(feed.closeReason, /binary/);

    const again = await Client.connect(daemon.url("/v1/ingest"));
    assert.ok((await ackOf(again, [{ type: "trade", symbol: "Z", price: 1, size: 1 }])) > 0);
    again.close();
  });

  test("health, stats and metrics answer on the feed port", async () => {
    const health = await fetch(`http://127.0.0.1:${daemon.port}/healthz`);
    assert.equal(health.status, 200);
    const h = (await health.json()) as { status: string; seq: number };
    assert.equal(h.status, "ok");
    assert.ok(h.seq >= 400);
    const stats = (await (await fetch(`http://127.0.0.1:${daemon.port}/v1/stats`)).json()) as {
      seq: { last: number };
      workers: unknown[];
      transport: { name: string; workers: number };
    };
    assert.ok(stats.seq.last >= 400);
    // Two asked for; the ws transport runs one where Node cannot share a port between threads.
    assert.equal(stats.workers.length, stats.transport.workers);
    assert.equal(stats.workers.length, servedOn(daemon) === "ws" && !WS_SHARES_PORT ? 1 : 2);
    // The LevelDB indexer follows the WAL: the store catches up with what was ingested.
    let indexed = 0;
    for (let i = 0; i < 100 && indexed < 400; i++) {
      const s = (await (await fetch(`http://127.0.0.1:${daemon.port}/v1/stats`)).json()) as {
        seq: { indexed: number };
      };
      indexed = s.seq.indexed;
      if (indexed < 400) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(indexed >= 400, `store indexed up to ${indexed}`);
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    for (const name of [
      "tickring_acked_seq",
      "tickring_ingest_ticks_total",
      "tickring_worker_ring_lag_bytes",
      "tickring_wal_fsync_seconds_bucket",
      "tickring_slow_consumer_total",
    ]) {
      assert.match(metrics, new RegExp(`^${name}`, "m"));
    }
  });
});

async function ackOf(pub: Client, msg: unknown): Promise<number> {
  const from = pub.text.length;
  pub.send(msg);
  return (await pub.nextOp("ack", from)).seq as number;
}

describe("durability", () => {
  test("every acked tick survives kill -9, and seq continues after a restart", async () => {
    const dir = tempDir();
    try {
      const daemon = await startDaemon(dir.path, ["--fsync", "always", "--workers", "1"]);
      const pub = await Client.connect(daemon.url("/v1/ingest"));
      let acked = 0;
      for (let i = 0; i < 20; i++)
        acked = await ackOf(
          pub,
          ticks(50, i * 50).map((t) => json(t as Tick & { type: "trade" })),
        );
      assert.equal(acked, 1000);
      // Unacked ticks may or may not survive; acked ones must.
      pub.send(ticks(50, 1000).map((t) => json(t as Tick & { type: "trade" })));
      await daemon.kill();

      const reader = openWalReader(join(dir.path, "wal"), 1);
      const seqs: number[] = [];
      for (let b = reader.nextSync(); b !== null; b = reader.nextSync()) {
        for (let i = 0; i < b.count; i++) seqs.push(frameSeq(b.bytes, b.offsets[i]));
      }
      reader.close();
      assert.ok(seqs.length >= 1000, `only ${seqs.length} of 1000 acked ticks in the WAL`);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => i + 1),
      );

      const again = await startDaemon(dir.path, ["--workers", "1"]);
      const pub2 = await Client.connect(again.url("/v1/ingest"));
      assert.equal(await ackOf(pub2, [json(ticks(1)[0] as Tick & { type: "trade" })]), seqs.length + 1);
      pub2.close();
      assert.equal(await again.stop(), 0);
    } finally {
      dir.remove();
    }
  });

  test("SIGTERM makes everything durable, closes clients with 1001 and exits 0", async () => {
    const dir = tempDir();
    try {
      const daemon = await startDaemon(dir.path, ["--fsync", "os", "--workers", "1"]);
      const feed = await Client.connect(daemon.url("/v1/feed"));
      feed.send({ op: "subscribe", id: 1, symbols: ["*"] });
      await feed.nextOp("subscribed");
      const pub = await Client.connect(daemon.url("/v1/ingest"));
      assert.equal(
        await ackOf(
          pub,
          ticks(300).map((t) => json(t as Tick & { type: "trade" })),
        ),
        300,
      );
      assert.equal(await daemon.stop(), 0);
      await feed.until(() => feed.closeCode !== undefined, "close frame");
      assert.equal(feed.closeCode, 1001);
      const again = await startDaemon(dir.path, ["--workers", "1"]);
      // The last-value cache is rebuilt from the WAL: a new subscriber gets the last MSFT tick (seq 298).
      const late = await Client.connect(again.url("/v1/feed"));
      late.send({ op: "subscribe", id: 1, symbols: ["MSFT"] });
      await late.until(() => framesOf(late.binary).length >= 1, "a last value after the restart");
      assert.deepEqual(
        framesOf(late.binary).map((f) => frameSeq(f, 0)),
        [298],
      );
      late.close();
      const pub2 = await Client.connect(again.url("/v1/ingest"));
      assert.equal(await ackOf(pub2, [json(ticks(1)[0] as Tick & { type: "trade" })]), 301);
      pub2.close();
      assert.equal(await again.stop(), 0);
    } finally {
      dir.remove();
    }
  });
});
