import assert from "node:assert/strict";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { test } from "node:test";
import { FrameEncoder } from "../../src/frame/codec.js";
import { Store, Wal } from "../../src/storage/index.js";
import { DelayedFeed } from "../../src/subscriber/delayed-feed.js";
import { JsonRenderer } from "../../src/frame/json-render.js";
import { HistoryReader } from "../../src/subscriber/history.js";
import { JsonRun } from "../../src/subscriber/json-run.js";
import { ReplayScheduler } from "../../src/subscriber/replay-scheduler.js";
import { newFeedCounters, RealtimeSubscription } from "../../src/subscriber/realtime-feed.js";
import { HistoricalReplay, type ReplayHost } from "../../src/subscriber/replay.js";
import { corkedSender } from "../../src/subscriber/send.js";
import { FrameFilter } from "../../src/subscriber/frame-filter.js";
import { tempDir } from "../storage/helpers.js";
import { FakeSocket } from "../support/fake-socket.js";
import { ManualClock } from "../support/manual-clock.js";

const T0 = 1_800_000_000_000_000_000;
const MS = 1_000_000;

/** A WAL of 11 trades 40 ms apart (ts_event and ts_recv alike), from T0. */
async function history() {
  const tmp = tempDir("tickring-pacing-");
  const walDir = join(tmp.dir, "wal");
  const { wal } = await Wal.open({ dir: walDir, fsync: "os" });
  const enc = new FrameEncoder();
  for (let i = 0; i < 11; i++) {
    const ts = BigInt(T0 + i * 40 * MS);
    wal.append(
      enc.encode({ type: "trade", symbol: "PACE", price: 1, size: 1, tsEvent: ts }, BigInt(i + 1), ts),
      i + 1,
    );
  }
  wal.write();
  await wal.close();
  const store = await Store.open({ dir: join(tmp.dir, "store") });
  return {
    sources: { walDir, store: async () => store },
    cleanup: async () => (await store.close(), tmp.cleanup()),
  };
}

/** Lets the replay's async steps run (no time passes on the manual clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick();
}

for (const speed of [1, 10]) {
  test(`speed ${speed} releases each frame exactly at its original spacing ÷ ${speed}`, async () => {
    const h = await history();
    const clock = new ManualClock(T0 + 3_600_000 * MS);
    const ws = new FakeSocket();
    const conn = { ws, closed: false, sender: corkedSender(ws) };
    const host: ReplayHost = {
      liveSeq: () => 11,
      goLive: () => {},
      ended: () => {},
      failed: (_, err) => assert.fail(String(err)),
      json: new JsonRun(new JsonRenderer()),
      scheduler: new ReplayScheduler(),
    };
    const replay = new HistoricalReplay(
      {
        id: 1,
        filter: new FrameFilter(null),
        json: false,
        toSeq: 11,
        toTimeNs: Infinity,
        speed,
        live: false,
        policy: "drop",
      },
      conn,
      new HistoryReader(h.sources, 1),
      host,
      { bytes: 1 << 20 },
      newFeedCounters(),
      clock,
    );
    await replay.pump();
    await settle();
    assert.deepEqual(ws.seqs(), [1], "the first frame at once");
    const gap = 40 / speed;
    for (let i = 2; i <= 11; i++) {
      clock.advance(gap - 0.5);
      await settle();
      assert.equal(ws.seqs().length, i - 1, `frame ${i} not before its time`);
      clock.advance(0.5);
      await settle();
      assert.equal(ws.seqs().length, i, `frame ${i} at its time`);
    }
    await settle();
    assert.equal(ws.text.filter((m) => m.op === "replay_done").length, 1);
    await h.cleanup();
  });
}

test("the delayed feed releases a frame at ts_recv + delay, never before", async () => {
  const h = await history();
  // Start 100 ms after the first frame was received: with a 300 ms delay, nothing is due yet.
  const clock = new ManualClock(T0 + 100 * MS);
  const feed = new DelayedFeed(h.sources, 300, { bytes: 1 << 20 }, newFeedCounters(), () => 11, clock);
  const ws = new FakeSocket();
  const sub = new RealtimeSubscription(
    1,
    { ws, closed: false, sender: corkedSender(ws) },
    new FrameFilter(null),
    false,
    "drop",
  );
  await feed.add(sub);
  await settle();
  assert.deepEqual(ws.seqs(), []);
  clock.advance(199);
  await settle();
  assert.deepEqual(ws.seqs(), [], "1 ms before seq 1 is due");
  clock.advance(1);
  await settle();
  assert.deepEqual(ws.seqs(), [1]);
  for (let i = 2; i <= 11; i++) {
    clock.advance(39);
    await settle();
    assert.equal(ws.seqs().length, i - 1, `seq ${i} not before ts_recv + delay`);
    clock.advance(1);
    await settle();
    assert.equal(ws.seqs().length, i, `seq ${i} at ts_recv + delay`);
  }
  feed.stop();
  await h.cleanup();
});
