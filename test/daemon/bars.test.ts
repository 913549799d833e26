import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { barRecordsOf, bruteForceBars, type TradeRecord } from "../support/bars.js";
import { Client, type Daemon, startDaemon, tempDir } from "../support/daemon.js";

const SYMBOLS = ["AAPL", "MSFT", "BRK.B"];
const SECOND = 1_000_000_000n;

const dataFrames = (c: Client) => c.text.filter((m) => m.op === undefined);

describe("live bars", () => {
  const dir = tempDir();
  let daemon: Daemon;
  const trades: TradeRecord[] = [];
  let live: Client;
  let delayed: Client;
  let lastEnd = 0n;

  before(async () => {
    daemon = await startDaemon(dir.path, ["--bars", "1s", "--bar-grace", "100ms", "--delay", "1s"]);
    live = await Client.connect(daemon.url("/v1/feed"));
    live.send({ op: "subscribe", id: 1, symbols: ["*"], types: ["bar"], format: "json" });
    await live.nextOp("subscribed");
    delayed = await Client.connect(daemon.url("/v1/feed"));
    delayed.send({ op: "subscribe", id: 2, symbols: ["*"], feed: "delayed", types: ["bar"], format: "json" });
    await delayed.nextOp("subscribed");

    // Trades over about three seconds of the daemon's clock, some of them late by half a second (their bar
    // may be out already: a correction), every message acked before the next.
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    let seq = 0;
    for (let m = 0; m < 12; m++) {
      const now = BigInt(Date.now()) * 1_000_000n;
      const ticks = Array.from({ length: 20 }, (_, i) => {
        const tsEvent = now - (i % 7 === 0 ? 500_000_000n : BigInt(i) * 1_000_000n);
        const t = {
          symbol: SYMBOLS[(m + i) % 3],
          price: 100 + ((m * 7 + i) % 13),
          size: (i % 5) * 10,
          tsEvent,
        };
        trades.push({ ...t, seq: ++seq });
        if (tsEvent / SECOND + 1n > lastEnd) lastEnd = tsEvent / SECOND + 1n;
        return { type: "trade", symbol: t.symbol, price: t.price, size: t.size, ts_event: String(tsEvent) };
      });
      pub.send(ticks);
      await pub.until(() => pub.text.filter((t) => t.op === "ack").length > m, "ack");
      await new Promise((r) => setTimeout(r, 250));
    }
    pub.close();
    lastEnd *= SECOND;
  });

  after(async () => {
    live.close();
    delayed.close();
    const code = await daemon.stop();
    dir.remove();
    assert.equal(code, 0, daemon.stderr());
  });

  test("bars on the real-time feed equal a brute-force aggregation of the trades", async () => {
    const expected = bruteForceBars(trades, SECOND);
    await live.until(() => barRecordsOf(dataFrames(live)).size === expected.size, "every bar", 15_000);
    const frames = dataFrames(live);
    assert.ok(frames.every((f) => f.type === "bar" && f.interval_ns === "1000000000"));
    assert.deepEqual(barRecordsOf(frames), expected);
    assert.ok(
      frames.some((f) => (f.revision as number) > 0),
      "the late trades made corrections",
    );
    assert.ok([...expected.values()].every((b) => b.endNs <= lastEnd));
  });

  test("a historical replay and the delayed feed carry the same bar frames", async () => {
    const liveFrames = dataFrames(live);
    const replay = await Client.connect(daemon.url("/v1/feed"));
    replay.send({
      op: "subscribe",
      id: 3,
      symbols: ["*"],
      feed: "historical",
      from: { seq: 1 },
      types: ["bar"],
      format: "json",
    });
    await replay.nextOp("replay_done");
    replay.close();
    const replayed = dataFrames(replay);
    assert.deepEqual(replayed.slice(0, liveFrames.length), liveFrames);
    await delayed.until(() => dataFrames(delayed).length >= liveFrames.length, "the delayed bars", 15_000);
    assert.deepEqual(dataFrames(delayed).slice(0, liveFrames.length), liveFrames);
  });
});
