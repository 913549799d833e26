import assert from "node:assert/strict";
import { test } from "node:test";
import { barRecordsOf, bruteForceBars, type TradeRecord } from "../support/bars.js";
import { Client, startDaemon, tempDir } from "../support/daemon.js";

const SECOND = 1_000_000_000n;
const ARGS = ["--bars", "1s", "--bar-grace", "3s"];

async function publish(url: string, trades: TradeRecord[], symbol: string, n: number, tsEvent: bigint) {
  const pub = await Client.connect(url);
  const ticks = Array.from({ length: n }, (_, i) => {
    const t = { symbol, price: 10 + i, size: i + 1, tsEvent: tsEvent + BigInt(i), seq: trades.length + 1 };
    trades.push(t);
    return { type: "trade", symbol, price: t.price, size: t.size, ts_event: String(t.tsEvent) };
  });
  pub.send(ticks);
  await pub.nextOp("ack");
  pub.close();
}

/** Every bar frame history holds, as JSON objects. */
async function barFrames(url: string): Promise<Record<string, unknown>[]> {
  const c = await Client.connect(url);
  c.send({
    op: "subscribe",
    id: 1,
    symbols: ["*"],
    feed: "historical",
    from: { seq: 1 },
    types: ["bar"],
    format: "json",
  });
  await c.nextOp("replay_done");
  c.close();
  return c.text.filter((m) => m.op === undefined);
}

test("across a restart, a bar is built from the trades of both sides, and none is emitted twice", async () => {
  const dir = tempDir();
  const trades: TradeRecord[] = [];
  try {
    let daemon = await startDaemon(dir.path, ARGS);
    // Bar A: its trades, then the bar itself, before the restart.
    const a = ((BigInt(Date.now()) * 1_000_000n) / SECOND) * SECOND;
    await publish(daemon.url("/v1/ingest"), trades, "A", 5, a);
    const live = await Client.connect(daemon.url("/v1/feed"));
    live.send({ op: "subscribe", id: 1, symbols: ["A"], types: ["bar"], format: "json" });
    // Due 1 s + the 3 s grace after its trades; generous, as a loaded CI machine can starve the bars thread (15 s timed out once).
    await live.until(() => live.text.some((m) => m.type === "bar"), "bar A", 60_000);
    live.close();
    // Bar B: trades before the restart, more after it, the bar due only after it.
    const b = ((BigInt(Date.now()) * 1_000_000n) / SECOND) * SECOND;
    await publish(daemon.url("/v1/ingest"), trades, "B", 3, b);
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    daemon = await startDaemon(dir.path, ARGS);
    await publish(daemon.url("/v1/ingest"), trades, "B", 4, b + 100n);
    const expected = bruteForceBars(trades, SECOND);
    let frames: Record<string, unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      frames = await barFrames(daemon.url("/v1/feed"));
      if (frames.length >= expected.size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const keys = frames.map((f) => `${f.symbol}/${f.ts_event}/${f.revision}`);
    assert.equal(new Set(keys).size, keys.length, `no bar twice: ${keys.join(" ")}`);
    const got = barRecordsOf(frames);
    assert.deepEqual(got, expected);
    assert.equal(await daemon.stop(), 0, daemon.stderr());
  } finally {
    dir.remove();
  }
});
