import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FrameEncoder, frameLength, frameSeq, type Tick } from "../../src/frame/codec.js";
import { FRAME_TYPES, FrameFilter, type FrameType } from "../../src/subscriber/frame-filter.js";
import { LastValueCache } from "../../src/subscriber/last-value-cache.js";
import {
  type FeedConnection,
  RealtimeFeed,
  RealtimeSubscription,
  newFeedCounters,
} from "../../src/subscriber/realtime-feed.js";
import { corkedSender } from "../../src/subscriber/send.js";
import { FakeSocket } from "../support/fake-socket.js";

const SYMBOLS = ["AAPL", "MSFT", "BRK.B"];
const INTERVALS = [1e9, 60e9, 300e9];

const tickArb: fc.Arbitrary<Tick> = fc
  .record({
    type: fc.constantFrom(...FRAME_TYPES),
    symbol: fc.constantFrom(...SYMBOLS),
    interval: fc.constantFrom(...INTERVALS),
  })
  .map(({ type, symbol, interval }): Tick => {
    switch (type) {
      case "trade":
        return { type, symbol, price: 1, size: 1 };
      case "quote":
        return { type, symbol, bidPrice: 1, bidSize: 1, askPrice: 2, askSize: 1 };
      case "book":
        return { type, symbol, snapshot: true, bids: [{ price: 1, size: 1 }], asks: [] };
      case "bar":
        return { type, symbol, intervalNs: BigInt(interval), open: 1, high: 1, low: 1, close: 1, volume: 1 };
    }
  });
const filterArb = fc.record({
  symbols: fc.option(fc.subarray(SYMBOLS, { minLength: 1 }), { nil: null }),
  types: fc.option(fc.subarray([...FRAME_TYPES], { minLength: 1 }), { nil: null }),
  bars: fc.option(fc.subarray(INTERVALS, { minLength: 1 }), { nil: null }),
});

/** What a filter should take, spelled out. */
function wants(
  f: { symbols: string[] | null; types: FrameType[] | null; bars: number[] | null },
  t: Tick,
): boolean {
  if (f.symbols !== null && !f.symbols.includes(t.symbol)) return false;
  if (f.types !== null && !f.types.includes(t.type)) return false;
  return t.type !== "bar" || f.bars === null || f.bars.includes(Number(t.intervalNs));
}

function encodeRun(ticks: Tick[]): Uint8Array {
  const enc = new FrameEncoder();
  const parts = ticks.map((t, i) => enc.encode(t, BigInt(i + 1), 1n).slice());
  const run = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    run.set(p, at);
    at += p.length;
  }
  return run;
}

function seqsOf(messages: Uint8Array[]): number[] {
  const out: number[] = [];
  for (const m of messages)
    for (let off = 0; off < m.length; off += frameLength(m, off)) out.push(frameSeq(m, off));
  return out;
}

function subscriber(feed: RealtimeFeed, id: number, filter: FrameFilter, json = false): FakeSocket {
  const ws = new FakeSocket();
  const conn: FeedConnection = { ws, closed: false, sender: corkedSender(ws) };
  const sub = new RealtimeSubscription(id, conn, filter, json, "drop");
  feed.add(sub, feed.lastValuesFor(sub));
  return ws;
}

test("a frame filter takes a frame exactly when its symbol, type and bar interval are wanted", () => {
  fc.assert(
    fc.property(filterArb, fc.array(tickArb, { minLength: 1, maxLength: 30 }), (f, ticks) => {
      const filter = new FrameFilter(f.symbols, f.types, f.bars);
      const everyType = f.types === null || f.types.length === FRAME_TYPES.length;
      assert.equal(filter.takesAll, f.symbols === null && everyType && f.bars === null);
      const run = encodeRun(ticks);
      for (let off = 0, i = 0; off < run.length; off += frameLength(run, off), i++) {
        assert.equal(
          filter.matches(run, off),
          wants(f, ticks[i]),
          `${JSON.stringify(f)} ${ticks[i].type} ${ticks[i].symbol}`,
        );
      }
    }),
    { numRuns: 300 },
  );
});

test("the real-time feed sends each subscriber the frames its filter takes, and `*` alone the whole run", () => {
  fc.assert(
    fc.property(
      fc.array(filterArb, { minLength: 1, maxLength: 5 }),
      fc.array(tickArb, { minLength: 1, maxLength: 40 }),
      (filters, ticks) => {
        const feed = new RealtimeFeed(new LastValueCache(), { bytes: 1 << 20 }, newFeedCounters());
        const sockets = filters.map((f, i) =>
          subscriber(feed, i, new FrameFilter(f.symbols, f.types, f.bars)),
        );
        const jsonSockets = filters.map((f, i) =>
          subscriber(feed, 100 + i, new FrameFilter(f.symbols, f.types, f.bars), true),
        );
        const whole = subscriber(feed, 99, new FrameFilter(null));
        const run = encodeRun(ticks);
        feed.dispatch(run, 0, run.length);
        for (const [i, f] of filters.entries()) {
          const expected = ticks.flatMap((t, k) => (wants(f, t) ? [k + 1] : []));
          assert.deepEqual(seqsOf(sockets[i].binary), expected);
          assert.deepEqual(
            jsonSockets[i].text.map((o) => o.seq),
            expected,
          );
        }
        assert.equal(whole.binary.length, 1, "one message: the run as it is");
        assert.deepEqual(whole.binary[0], run);
      },
    ),
    { numRuns: 100 },
  );
});

test("a new subscriber starts with the last value of each kind its filter takes", () => {
  const feed = new RealtimeFeed(new LastValueCache(), { bytes: 1 << 20 }, newFeedCounters());
  const ticks = [
    ...["trade", "quote", "bar"].map((type) => ({ type, symbol: "AAPL", interval: 60e9 })),
    { type: "bar", symbol: "AAPL", interval: 1e9 },
    { type: "trade", symbol: "MSFT", interval: 1e9 },
  ];
  const run = encodeRun(
    ticks
      .map(
        (t) =>
          fc.sample(
            tickArb.filter((x) => x.type === t.type),
            1,
          )[0],
      )
      .map((t, i) => {
        const want = ticks[i];
        return t.type === "bar"
          ? { ...t, symbol: want.symbol, intervalNs: BigInt(want.interval) }
          : { ...t, symbol: want.symbol };
      }),
  );
  feed.dispatch(run, 0, run.length);
  const quotes = subscriber(feed, 1, new FrameFilter(["AAPL"], ["quote"]));
  assert.deepEqual(seqsOf(quotes.binary), [2]);
  const minuteBars = subscriber(feed, 2, new FrameFilter(null, ["bar"], [60e9]));
  assert.deepEqual(seqsOf(minuteBars.binary), [3]);
  const everything = subscriber(feed, 3, new FrameFilter(["AAPL"]));
  assert.deepEqual(seqsOf(everything.binary), [1, 2, 3, 4]);
});
