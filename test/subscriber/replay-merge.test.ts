import assert from "node:assert/strict";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { test } from "node:test";
import fc from "fast-check";
import { JsonRenderer } from "../../src/frame/json-render.js";
import { Sequencer } from "../../src/publisher/sequencer.js";
import { RingReader } from "../../src/ring/reader.js";
import { RingWriter } from "../../src/ring/writer.js";
import { Store, Wal } from "../../src/storage/index.js";
import { DelayedFeed } from "../../src/subscriber/delayed-feed.js";
import { FeedEndpoint, type FeedSession } from "../../src/subscriber/feed-endpoint.js";
import { LastValueCache } from "../../src/subscriber/last-value-cache.js";
import { newFeedCounters, RealtimeFeed } from "../../src/subscriber/realtime-feed.js";
import { RingPump } from "../../src/subscriber/ring-pump.js";
import { corkedSender } from "../../src/subscriber/send.js";
import { tempDir, tickFor } from "../storage/helpers.js";
import { FakeSocket } from "../support/fake-socket.js";
import { ReplayScheduler } from "../../src/subscriber/replay-scheduler.js";

/**
 * One worker's feeds in-process, on a real WAL and ring: a `live:true` replay from seq 1 while the sequencer
 * keeps writing, the pump and the replay interleaved by the event loop at points the property chooses.
 */
test("a live replay joins the real-time feed with no gap and no duplicate, wherever it switches", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 300 }),
      fc.array(
        fc.record({ frames: fc.integer({ min: 1, max: 40 }), turns: fc.integer({ min: 0, max: 3 }) }),
        {
          minLength: 5,
          maxLength: 30,
        },
      ),
      async (before, steps) => {
        const tmp = tempDir("tickring-merge-");
        const walDir = join(tmp.dir, "wal");
        const { wal } = await Wal.open({ dir: walDir, fsync: "os" });
        const ring = RingWriter.allocate(1 << 20);
        const sequencer = new Sequencer(wal, ring, 0);
        let next = 1;
        const write = (n: number) => {
          sequencer.appendTicks(Array.from({ length: n }, () => tickFor(next++)));
          sequencer.commit();
        };
        const store = await Store.open({ dir: join(tmp.dir, "store") });
        const c = newFeedCounters();
        const realtime = new RealtimeFeed(new LastValueCache(), { bytes: 1 << 20 }, c);
        const pump = new RingPump({
          reader: new RingReader(ring.buffer),
          walDir,
          writtenSeq: () => wal.writtenSeq,
          fanOut: realtime,
          startSeq: 0,
          onTorn: () => assert.fail("torn run"),
        });
        const history = { walDir, store: async () => store };
        const endpoint = new FeedEndpoint({
          realtime,
          delayed: new DelayedFeed(history, 60_000, { bytes: 1 << 20 }, c, () => pump.dispatchedSeq),
          history,
          dispatchedSeq: () => pump.dispatchedSeq,
          writtenSeq: () => wal.writtenSeq,
          limit: { bytes: 1 << 20 },
          slowConsumer: "drop",
          delayMs: 60_000,
          counters: c,
          limits: { subscriptions: 10, symbols: 100, replays: 10, replaysPerWorker: 10 },
          renderer: new JsonRenderer(),
          scheduler: new ReplayScheduler(),
          log: () => {},
        });
        try {
          if (before > 0) write(before);
          pump.turn();
          const ws = new FakeSocket();
          const conn = { ws, closed: false, sender: corkedSender(ws) } as unknown as FeedSession;
          endpoint.open(conn);
          endpoint.request(
            conn,
            JSON.stringify({
              op: "subscribe",
              id: 7,
              symbols: ["*"],
              feed: "historical",
              from: { seq: 1 },
              live: true,
            }),
          );
          for (const step of steps) {
            write(step.frames);
            for (let t = 0; t < step.turns; t++) await tick();
            pump.turn();
          }
          // Let the replay finish and join, then drain the ring.
          for (let t = 0; t < 1000 && !conn.subs.has(7); t++) await tick();
          assert.ok(conn.subs.has(7), "the replay joined the real-time feed");
          write(3);
          pump.turn();
          const last = next - 1;
          assert.deepEqual(
            ws.seqs(),
            Array.from({ length: last }, (_, i) => i + 1),
          );
          const done = ws.text.filter((m) => m.op === "replay_done");
          assert.equal(done.length, 1);
          assert.equal(done[0].live, true);
          endpoint.closed(conn);
        } finally {
          await wal.close();
          await store.close();
          tmp.cleanup();
        }
      },
    ),
    { numRuns: 25 },
  );
});
