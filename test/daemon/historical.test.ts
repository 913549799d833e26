import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { FrameEncoder, frameSeq, frameSymbolSpan, frameTsRecvApprox } from "../../src/frame/codec.js";
import { Client, type Daemon, framesOf, startDaemon, tempDir } from "../support/daemon.js";
import { walFrames } from "../support/wal.js";

function symbolOf(f: Buffer): string {
  const span = [0, 0];
  frameSymbolSpan(f, 0, span);
  return f.subarray(span[0], span[0] + span[1]).toString();
}

async function replay(
  d: Daemon,
  request: Record<string, unknown>,
): Promise<{ frames: Buffer[]; done: Record<string, unknown> }> {
  const c = await Client.connect(d.url("/v1/feed"));
  c.send({ op: "subscribe", id: 1, feed: "historical", ...request });
  const done = await c.nextOp("replay_done");
  c.close();
  return { frames: framesOf(c.binary), done };
}

describe("historical feed", () => {
  const dir = tempDir();
  let daemon: Daemon;
  before(async () => {
    // Small WAL segments, so replays cross segment files.
    daemon = await startDaemon(dir.path, ["--wal-segment-bytes", "65536", "--delay", "300ms"]);
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const symbols = ["AAPL", "MSFT", "NVDA"];
    for (let m = 0; m < 10; m++) {
      const ticks = Array.from({ length: 300 }, (_, i) => ({
        type: "trade",
        symbol: symbols[i % 3],
        price: m + i / 1000,
        size: i + 1,
      }));
      pub.send(ticks);
      await pub.until(() => pub.text.filter((t) => t.op === "ack").length > m, "ack");
    }
    pub.close();
  });
  after(async () => {
    const code = await daemon.stop();
    dir.remove();
    assert.equal(code, 0, daemon.stderr());
  });

  test("replays from seq and from time equal what the WAL holds, filtered and bounded", async () => {
    const all = walFrames(dir.path);
    assert.equal(all.length, 3000);
    const bySeq = await replay(daemon, { symbols: ["*"], from: { seq: 1 }, to: { seq: 3000 } });
    assert.deepEqual(bySeq.frames, all);
    assert.equal(bySeq.done.last_seq, 3000);

    const some = await replay(daemon, { symbols: ["MSFT"], from: { seq: 1234 }, to: { seq: 2345 } });
    const want = all.filter(
      (f) => frameSeq(f, 0) >= 1234 && frameSeq(f, 0) <= 2345 && symbolOf(f) === "MSFT",
    );
    assert.deepEqual(some.frames, want);

    // From a time: the first frame at or after the ts_recv of seq 1500.
    const t = frameTsRecvApprox(all[1499], 0);
    const iso = new Date(Math.ceil(t / 1e6)).toISOString();
    const byTime = await replay(daemon, { symbols: ["*"], from: { time: iso }, to: { seq: 3000 } });
    const first = all.findIndex((f) => frameTsRecvApprox(f, 0) >= Date.parse(iso) * 1e6);
    assert.deepEqual(byTime.frames, all.slice(first));
  });

  test("paced replays deliver every frame in order at every speed (release times: test/subscriber/pacing)", async () => {
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const t0 = 1_800_000_000_000_000_000n;
    // 11 ticks 40 ms apart by ts_event: 400 ms of market time.
    pub.send(
      Array.from({ length: 11 }, (_, i) => ({
        type: "trade",
        symbol: "PACE",
        price: 1,
        size: 1,
        ts_event: String(t0 + BigInt(i) * 40_000_000n),
      })),
    );
    const ack = (await pub.nextOp("ack")).seq as number;
    pub.close();
    for (const speed of [1, 10, "max"]) {
      const r = await replay(daemon, { symbols: ["PACE"], from: { seq: ack - 10 }, to: { seq: ack }, speed });
      assert.deepEqual(
        r.frames.map((f) => frameSeq(f, 0)),
        Array.from({ length: 11 }, (_, i) => ack - 10 + i),
        `speed ${speed}`,
      );
    }
  });

  test("live:true continues with the real-time feed: every seq once, from any switch-over moment", async () => {
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    let sending = true;
    let n = 0;
    const ingest = (async () => {
      while (sending) {
        pub.send(
          Array.from({ length: 50 }, (_, i) => ({
            type: "quote",
            symbol: `L${(n + i) % 5}`,
            bid_price: 1,
            bid_size: 1,
            ask_price: 2,
            ask_size: 1,
          })),
        );
        n += 50;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3000 }),
          fc.integer({ min: 0, max: 150 }),
          async (from, waitMs) => {
            const c = await Client.connect(daemon.url("/v1/feed"));
            c.send({
              op: "subscribe",
              id: 1,
              symbols: ["*"],
              feed: "historical",
              from: { seq: from },
              live: true,
            });
            await c.nextOp("replay_done");
            await new Promise((r) => setTimeout(r, waitMs));
            const seqAtStop = Number(
              (
                (await (await fetch(`http://127.0.0.1:${daemon.port}/v1/stats`)).json()) as {
                  seq: { written: number };
                }
              ).seq.written,
            );
            await c.until(
              () => framesOf(c.binary).length >= seqAtStop - from + 1,
              `frames up to ${seqAtStop}`,
            );
            c.close();
            const seqs = framesOf(c.binary).map((f) => frameSeq(f, 0));
            for (const [i, s] of seqs.entries())
              assert.equal(s, from + i, `frame ${i} has seq ${s}, expected ${from + i}`);
          },
        ),
        { numRuns: 6 },
      );
    } finally {
      sending = false;
      await ingest;
      pub.close();
    }
  });

  test("a replay bounded by a time ends at the last frame before it", async () => {
    const all = walFrames(dir.path);
    const t = frameTsRecvApprox(all[1999], 0);
    const iso = new Date(Math.floor(t / 1e6)).toISOString();
    const r = await replay(daemon, { symbols: ["*"], from: { seq: 1 }, to: { time: iso } });
    const want = all.filter((f) => frameTsRecvApprox(f, 0) <= Date.parse(iso) * 1e6);
    assert.deepEqual(r.frames, want);
    assert.equal(r.done.last_seq, frameSeq(want.at(-1)!, 0));
  });

  test("a live replay far behind catches up while ingest goes on", async () => {
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const burst = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: "trade", symbol: "FAR", price: i, size: 1 }));
    // A backlog larger than the socket buffers between the server and this client (≈ 15 MB).
    const enc = new FrameEncoder();
    const frame = Buffer.from(enc.encode({ type: "trade", symbol: "FAR", price: 1, size: 1 }, 0n, 0n));
    for (let m = 0; m < 50; m++) pub.send(Buffer.concat(Array.from({ length: 2000 }, () => frame)));
    await pub.until(() => pub.text.filter((t) => t.op === "ack").length === 50, "the backlog");
    const from = (pub.text.at(-1)!.seq as number) - 99_999;
    let sending = true;
    let sent = 0;
    const ingest = (async () => {
      // ≈ 45K ticks/s: well within what this machine sequences while it also replays.
      while (sending) {
        pub.send(burst(50));
        sent++;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const c = await Client.connect(daemon.url("/v1/feed"));
    try {
      c.send({ op: "subscribe", id: 1, symbols: ["*"], feed: "historical", from: { seq: from }, live: true });
      // A slow start: the replay pauses on backpressure while the live feed moves on past where it began.
      const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      await new Promise((r) => setTimeout(r, 300));
      socket.resume();
      const done = await c.nextOp("replay_done");
      assert.equal(done.live, true);
    } finally {
      sending = false;
      await ingest;
    }
    // Everything acked, history and live alike, arrives once, in order.
    const acks = () => pub.text.filter((t) => t.op === "ack");
    await pub.until(() => acks().length === 50 + sent, "every ack");
    const end = acks().at(-1)!.seq as number;
    await c.until(
      () => (framesOf(c.binary).at(-1) ? frameSeq(framesOf(c.binary).at(-1)!, 0) : 0) >= end,
      "the last ack",
    );
    const seqs = framesOf(c.binary).map((f) => frameSeq(f, 0));
    assert.deepEqual(
      seqs,
      Array.from({ length: end - from + 1 }, (_, i) => from + i),
    );
    c.close();
    pub.close();
  });

  test("the delayed feed delivers every frame of its symbols, in order (release times: test/subscriber/pacing)", async () => {
    const c = await Client.connect(daemon.url("/v1/feed"));
    c.send({ op: "subscribe", id: 1, symbols: ["DLY"], feed: "delayed" });
    await c.nextOp("subscribed");
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const acked: number[] = [];
    for (let i = 0; i < 5; i++) {
      pub.send({ type: "trade", symbol: "DLY", price: i, size: 1 });
      acked.push((await pub.nextOp("ack", acked.length)).seq as number);
    }
    await c.until(() => framesOf(c.binary).length >= 5, "5 delayed frames");
    assert.deepEqual(
      framesOf(c.binary).map((f) => frameSeq(f, 0)),
      acked,
    );
    c.close();
    pub.close();
  });
});
