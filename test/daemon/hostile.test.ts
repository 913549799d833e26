/**
 * Hostile clients against the real daemon: whatever they send, the daemon keeps serving, and every acked
 * tick is there exactly once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameEncoder, frameSeq } from "../../src/frame/codec.js";
import { Client, framesOf, startDaemon, tempDir } from "../support/daemon.js";

test("a frame whose seq slot overlaps ts_recv is refused; the live feed goes on at the next seq", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path);
  try {
    const sub = await Client.connect(daemon.url("/v1/feed"));
    sub.send({ op: "subscribe", id: 1, symbols: ["*"] });
    await sub.nextOp("subscribed");
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    pub.send({ type: "trade", symbol: "OK", price: 1, size: 1 });
    const first = (await pub.nextOp("ack")).seq as number;
    // The reproduction: field 1's vtable slot pointed at field 3's offset.
    const f = Buffer.from(
      new FrameEncoder().encode({ type: "trade", symbol: "BAD", price: 1, size: 1 }, 0n, 0n),
    );
    const table = 4 + f.readUInt32LE(4);
    const vt = table - f.readInt32LE(table);
    f.writeUInt16LE(f.readUInt16LE(vt + 8), vt + 4);
    pub.send(f);
    assert.equal((await pub.nextOp("error")).code, "BAD_FRAME");
    pub.send({ type: "trade", symbol: "OK", price: 2, size: 1 });
    assert.equal((await pub.nextOp("ack", 1)).seq, first + 1);
    sub.send({ op: "ping" });
    assert.equal((await sub.nextOp("pong")).seq, first + 1);
    await sub.until(() => framesOf(sub.binary).length >= 2, "both good frames");
    assert.deepEqual(
      framesOf(sub.binary).map((b) => frameSeq(b, 0)),
      [first, first + 1],
    );
    for (const c of [sub, pub]) c.close();
  } finally {
    await daemon.stop();
    dir.remove();
  }
});

test("running out of file descriptors fails replays, not the daemon", async () => {
  const dir = tempDir();
  // Limits raised so the replays, not the limits, meet the descriptor ceiling.
  const daemon = await startDaemon(
    dir.path,
    ["--max-replays", "1000", "--max-replays-per-worker", "1000", "--max-subscriptions", "1000"],
    { maxOpenFiles: 256 },
  );
  try {
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    // A second apart by ts_event: a replay paced at a thousandth of that holds its file open.
    const t0 = 1_800_000_000_000_000_000n;
    pub.send(
      Array.from({ length: 100 }, (_, i) => ({
        type: "trade",
        symbol: "FD",
        price: i + 1,
        size: 1,
        ts_event: String(t0 + BigInt(i) * 1_000_000_000n),
      })),
    );
    const acked = (await pub.nextOp("ack")).seq as number;
    const hogs = await Promise.all([0, 1, 2].map(() => Client.connect(daemon.url("/v1/feed"))));
    for (const c of hogs) {
      for (let id = 1; id <= 150; id++) {
        c.send({
          op: "subscribe",
          id,
          symbols: ["FD"],
          feed: "historical",
          from: { seq: 1 },
          live: true,
          speed: 0.001,
        });
      }
    }
    await Promise.all(
      hogs.map((c) =>
        c.until(
          // Each replay that could open its file sends its first frame (the next is due far later); each that
          // could not, an error.
          () =>
            framesOf(c.binary).length + c.text.filter((m) => m.op === "error").length >= 150 ||
            c.closeCode !== undefined,
          "a first frame or an error from every replay",
          30_000,
        ),
      ),
    );
    const errors = hogs.flatMap((c) => c.text.filter((m) => m.op === "error"));
    assert.ok(errors.length > 0, "some replays could not open their files");
    assert.deepEqual([...new Set(errors.map((e) => e.code))], ["LIMIT_REACHED"]);
    for (const c of hogs) c.close();
    // Once a client's close is answered the daemon has closed its replays' files. Until then a new
    // connection may find no descriptor: uWS leaves it waiting in the backlog, Node (the ws transport)
    // accepts and drops it.
    await Promise.all(hogs.map((c) => c.until(() => c.closeCode !== undefined, "the close answered")));
    // The daemon is up and whole: health, ingest, and a replay of everything acked.
    assert.equal((await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).status, 200);
    pub.send({ type: "trade", symbol: "FD", price: 1, size: 1 });
    assert.equal((await pub.nextOp("ack", 1)).seq, acked + 1);
    const check = await Client.connect(daemon.url("/v1/feed"));
    check.send({
      op: "subscribe",
      id: 1,
      symbols: ["*"],
      feed: "historical",
      from: { seq: 1 },
      to: { seq: acked + 1 },
    });
    await check.nextOp("replay_done");
    assert.deepEqual(
      framesOf(check.binary).map((b) => frameSeq(b, 0)),
      Array.from({ length: acked + 1 }, (_, i) => i + 1),
    );
    for (const c of [check, pub]) c.close();
  } finally {
    await daemon.stop();
    dir.remove();
  }
});
