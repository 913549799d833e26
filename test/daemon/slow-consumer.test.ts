import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { test } from "node:test";
import { FrameEncoder, frameSeq, frameSymbolKey, type Tick } from "../../src/frame/codec.js";
import { Client, framesOf, startDaemon, tempDir } from "../support/daemon.js";

const SYMBOLS = ["S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7"];
const FRAMES = 10_000;
const PER_MESSAGE = 200;

/** Book snapshots of 50 levels a side (≈ 2.5 KB a frame): 10K of them outgrow any socket buffer. */
function book(i: number): Tick {
  const levels = Array.from({ length: 50 }, (_, j) => ({ price: 100 + j, size: i + j, count: 1 }));
  return { type: "book", symbol: SYMBOLS[i % SYMBOLS.length], snapshot: true, bids: levels, asks: levels };
}

function socketOf(c: Client): Socket {
  return (c.ws as unknown as { _socket: Socket })._socket;
}

test("a stalled client is handled by its policy while another client on the same worker gets everything", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path, ["--workers", "1", "--backpressure-bytes", "65536"]);
  try {
    const healthy = await Client.connect(daemon.url("/v1/feed"));
    const stalled = {
      drop: await Client.connect(daemon.url("/v1/feed")),
      conflate: await Client.connect(daemon.url("/v1/feed")),
      disconnect: await Client.connect(daemon.url("/v1/feed")),
    };
    healthy.send({ op: "subscribe", id: 1, symbols: ["*"] });
    await healthy.nextOp("subscribed");
    for (const [policy, c] of Object.entries(stalled)) {
      c.send({ op: "subscribe", id: 1, symbols: ["*"], policy });
      await c.nextOp("subscribed");
      socketOf(c).pause();
    }

    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const enc = new FrameEncoder();
    const lastOfSymbol = new Map<number, number>();
    for (let m = 0; m < FRAMES / PER_MESSAGE; m++) {
      const frames: Buffer[] = [];
      for (let i = m * PER_MESSAGE; i < (m + 1) * PER_MESSAGE; i++) {
        const f = Buffer.from(enc.encode(book(i), 0n, 0n));
        lastOfSymbol.set(frameSymbolKey(f, 0), i + 1);
        frames.push(f);
      }
      pub.send(Buffer.concat(frames));
      // Paced to what the healthy client reads, so only the stalled ones fall behind.
      await healthy.until(() => framesOf(healthy.binary).length >= (m + 1) * PER_MESSAGE, `message ${m}`);
    }
    await pub.until(() => pub.text.filter((t) => t.op === "ack").length === FRAMES / PER_MESSAGE, "all acks");
    assert.deepEqual(
      framesOf(healthy.binary).map((f) => frameSeq(f, 0)),
      Array.from({ length: FRAMES }, (_, i) => i + 1),
    );
    assert.equal(healthy.text.filter((t) => t.op === "gap").length, 0);

    for (const c of Object.values(stalled)) socketOf(c).resume();

    // drop: what arrived plus the reported gaps is every seq exactly once, with at least one gap.
    const drop = stalled.drop;
    const covered = () => {
      const gaps = drop.text.filter((t) => t.op === "gap") as unknown as { from: number; to: number }[];
      return framesOf(drop.binary).length + gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
    };
    await drop.until(() => covered() >= FRAMES, "frames and gaps covering every seq", 60_000);
    const seen = new Array(FRAMES + 1).fill(0);
    for (const f of framesOf(drop.binary)) seen[frameSeq(f, 0)]++;
    const gaps = drop.text.filter((t) => t.op === "gap") as unknown as { from: number; to: number }[];
    assert.ok(gaps.length > 0, "the stalled drop client was told of a gap");
    for (const g of gaps) for (let s = g.from; s <= g.to; s++) seen[s]++;
    assert.deepEqual(
      seen.slice(1),
      new Array(FRAMES).fill(1),
      "every seq once: received or reported in a gap",
    );

    // conflate: every symbol ends on its latest frame.
    const conflate = stalled.conflate;
    const lastSeen = () => {
      const m = new Map<number, number>();
      for (const f of framesOf(conflate.binary)) m.set(frameSymbolKey(f, 0), frameSeq(f, 0));
      return m;
    };
    await conflate.until(
      () => [...lastOfSymbol].every(([id, seq]) => lastSeen().get(id) === seq),
      "the latest frame of every symbol",
      60_000,
    );
    assert.ok(framesOf(conflate.binary).length < FRAMES, "conflation skipped frames");

    // disconnect: the stalled client is closed with a policy-violation code.
    const disconnect = stalled.disconnect;
    await disconnect.until(() => disconnect.closeCode !== undefined, "close", 60_000);
    assert.equal(disconnect.closeCode, 1008);
    assert.match(disconnect.closeReason, /slow consumer/);

    const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    for (const policy of ["drop", "conflate", "disconnect"]) {
      const line = metrics
        .split("\n")
        .find((l) => l.startsWith(`tickring_slow_consumer_total{worker="0",policy="${policy}"}`));
      assert.ok(line !== undefined && Number(line.split(" ")[1]) > 0, `${policy} counted: ${line}`);
    }
    for (const c of [healthy, pub, drop, conflate]) c.close();
  } catch (err) {
    await daemon.kill();
    dir.remove();
    throw err;
  }
  const code = await daemon.stop();
  dir.remove();
  assert.equal(code, 0, daemon.stderr());
});

/**
 * uWS gives up on a closing socket ≈ 16 s after `end()`, dropping whatever it still buffers — a close frame
 * queued behind data included — so a client that stalls longer sees 1006. The daemon sends nothing more
 * after the decision and sends the close frame once the buffer drains, so the client sees 1008 whenever it
 * resumes (within uWS's idle timeout).
 */
test("a client that stalls past uWS's close timeout still sees 1008 from the disconnect policy", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path, ["--workers", "1", "--backpressure-bytes", "65536"]);
  try {
    const stalled = await Client.connect(daemon.url("/v1/feed"));
    stalled.send({ op: "subscribe", id: 1, symbols: ["*"], policy: "disconnect" });
    await stalled.nextOp("subscribed");
    socketOf(stalled).pause();
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const enc = new FrameEncoder();
    const disconnects = async () => {
      const text = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
      const line = text
        .split("\n")
        .find((l) => l.startsWith('tickring_slow_consumer_total{worker="0",policy="disconnect"}'));
      return Number(line?.split(" ")[1] ?? 0);
    };
    for (let m = 0; (await disconnects()) === 0; m++) {
      assert.ok(m < 400, "the stalled client was never disconnected");
      pub.send(
        Buffer.concat(
          Array.from({ length: PER_MESSAGE }, (_, i) => Buffer.from(enc.encode(book(i), 0n, 0n))),
        ),
      );
      await pub.nextOp("ack", m);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 20_000));
    socketOf(stalled).resume();
    await stalled.until(() => stalled.closeCode !== undefined, "close", 30_000);
    assert.equal(stalled.closeCode, 1008);
    pub.close();
  } finally {
    await daemon.stop();
    dir.remove();
  }
});
