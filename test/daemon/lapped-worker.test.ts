import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameEncoder, frameSeq, type Tick } from "../../src/frame/codec.js";
import { Client, framesOf, startDaemon, tempDir } from "../support/daemon.js";

/** ≈ 2.5 KB frames: a burst of them laps a 64 KiB ring many times over. */
function book(i: number): Tick {
  const levels = Array.from({ length: 50 }, (_, j) => ({ price: 100 + j, size: i + j }));
  return { type: "book", symbol: `S${i % 8}`, snapshot: true, bids: levels, asks: levels };
}

test("a worker lapped by the ring catches up from the WAL: every seq once, no gap", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path, [
    "--workers",
    "1",
    "--ring-bytes",
    "65536",
    "--backpressure-bytes",
    "1073741824",
  ]);
  try {
    const sub = await Client.connect(daemon.url("/v1/feed"));
    sub.send({ op: "subscribe", id: 1, symbols: ["*"] });
    await sub.nextOp("subscribed");
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    const enc = new FrameEncoder();
    const total = 4000;
    for (let m = 0; m < total / 200; m++) {
      pub.send(
        Buffer.concat(
          Array.from({ length: 200 }, (_, i) => Buffer.from(enc.encode(book(m * 200 + i), 0n, 0n))),
        ),
      );
    }
    await sub.until(() => framesOf(sub.binary).length >= total, "every frame", 60_000);
    assert.deepEqual(
      framesOf(sub.binary).map((f) => frameSeq(f, 0)),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.equal(sub.text.filter((t) => t.op === "gap").length, 0, "no gap reported");
    const stats = (await (await fetch(`http://127.0.0.1:${daemon.port}/v1/stats`)).json()) as {
      workers: { laps: number; caughtUp: number }[];
    };
    assert.ok(stats.workers[0].laps > 0, "the worker was lapped (else this test proves nothing)");
    assert.ok(stats.workers[0].caughtUp > 0, "and re-read frames from the WAL");
    sub.close();
    pub.close();
  } finally {
    const code = await daemon.stop();
    dir.remove();
    assert.equal(code, 0, daemon.stderr());
  }
});
