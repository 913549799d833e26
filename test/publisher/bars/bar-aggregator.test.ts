import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type BarTick, FrameEncoder } from "../../../src/frame/codec.js";
import { BarAggregator } from "../../../src/publisher/bars/bar-aggregator.js";
import { type BarRecord, bruteForceBars, type TradeRecord } from "../../support/bars.js";

const SYMBOLS = ["AAPL", "MSFT", "BRK.B", "日本株"];
const INTERVALS = [1_000_000_000n, 60_000_000_000n];
const GRACE = 250_000_000n;
/** A whole second, so that clock steps of whole ms land on bucket boundaries often. */
const BASE = 1_763_900_000_000_000_000n;

const tradeArb = fc.record({
  symbol: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
  // Mostly on time, sometimes late by more than a 1 s bar plus its grace (a correction), never beyond the window.
  latenessMs: fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 300 }) },
    fc.integer({ min: 1000, max: 50_000 }),
  ),
  jitterNs: fc.constantFrom(0n, 1n, 4095n, 4097n, 123_456n),
  // On a second's boundary (less the jitter): where ts_event as a double would pick the wrong bucket.
  snap: fc.boolean(),
  price: fc.double({ min: 1, max: 1000, noNaN: true }),
  size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000 })),
});
const stepArb = fc.record({
  // Jumps of seconds leave intervals with no trade at all.
  advanceMs: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 400 }) },
    fc.integer({ min: 1000, max: 5000 }),
  ),
  trades: fc.array(tradeArb, { maxLength: 8 }),
  // Whether the bar frames sequenced so far reach the aggregator in this step (else they stay in flight).
  deliver: fc.boolean(),
});

test("live bars equal a brute-force aggregation of the same trades, corrections and a restart included", () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), fc.nat(), (steps, restartPick) => {
      const enc = new FrameEncoder();
      let clock = BASE + 500_000_000n;
      let agg = new BarAggregator(INTERVALS.map(Number), Number(GRACE), Number(clock));
      const trades: TradeRecord[] = [];
      const emitted: { bar: BarTick; at: bigint }[] = [];
      /** Every frame sequenced, trades and bars, as the WAL would hold them. */
      const wal: Uint8Array[] = [];
      let seq = 0;
      /** Bar frames sequenced but not yet seen by the aggregator (in the ring, after later trades). */
      let inFlight: Uint8Array[] = [];
      const collect = () => {
        for (const bar of agg.collect(Number(clock))) {
          emitted.push({ bar, at: clock });
          const frame = enc.encode(bar, BigInt(++seq), clock).slice();
          wal.push(frame);
          inFlight.push(frame);
        }
      };
      // A restart: a new aggregator reads history back before it goes on.
      const restartAt = restartPick % (steps.length + 1);
      /**
       * Trades read back at the restart whose bars left their window since (emitted before it, whole): out of
       * window for the new aggregator, rightly. No trade sent after the restart may be.
       */
      let readBackOutOfWindow = 0;
      for (const [k, step] of steps.entries()) {
        if (k === restartAt) {
          agg = new BarAggregator(INTERVALS.map(Number), Number(GRACE), Number(clock));
          for (const f of wal) agg.observe(f, 0);
          readBackOutOfWindow = agg.stats.outOfWindow;
          inFlight = [];
        }
        clock += BigInt(step.advanceMs) * 1_000_000n;
        for (const t of step.trades) {
          const sent = clock - BigInt(t.latenessMs) * 1_000_000n;
          const tsEvent = (t.snap ? (sent / 1_000_000_000n) * 1_000_000_000n : sent) - t.jitterNs;
          const symbol = SYMBOLS[t.symbol];
          const frame = enc
            .encode({ type: "trade", symbol, price: t.price, size: t.size, tsEvent }, BigInt(++seq), clock)
            .slice();
          agg.observe(frame, 0);
          wal.push(frame);
          trades.push({ symbol, seq, tsEvent, price: t.price, size: t.size });
        }
        // The aggregator sees its own bars come back, after the trades sequenced since it emitted them.
        if (step.deliver) {
          for (const f of inFlight) agg.observe(f, 0);
          inFlight = [];
        }
        collect();
      }
      clock += 120_000_000_000n;
      collect();
      assert.equal(agg.stats.outOfWindow, readBackOutOfWindow);

      const last = new Map<string, BarTick>();
      for (const { bar, at } of emitted) {
        const key = `${bar.symbol}/${bar.intervalNs}/${bar.tsEvent}`;
        const prev = last.get(key);
        assert.equal(bar.revision, prev === undefined ? 0 : prev.revision! + 1, `${key}: revisions count up`);
        if (bar.revision === 0) assert.ok(at + 1024n >= bar.tsEvent! + GRACE, `${key} waited for its grace`);
        assert.ok(bar.trades! > 0, "no bar without a trade");
        last.set(key, bar);
      }
      for (const intervalNs of INTERVALS) {
        const expected = bruteForceBars(trades, intervalNs);
        const got = new Map<string, BarRecord>();
        for (const bar of last.values()) {
          if (bar.intervalNs !== intervalNs) continue;
          got.set(`${bar.symbol}/${bar.tsEvent}`, {
            symbol: bar.symbol,
            intervalNs,
            endNs: bar.tsEvent!,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            trades: bar.trades!,
            vwap: bar.vwap!,
          });
        }
        assert.deepEqual(got, expected);
      }
    }),
    { numRuns: 150 },
  );
});

test("a trade older than the window is left out of live bars and counted", () => {
  const enc = new FrameEncoder();
  const now = BASE + 600_000_000_000n;
  const agg = new BarAggregator([1e9], Number(GRACE), Number(now));
  const old = enc.encode({ type: "trade", symbol: "AAPL", price: 1, size: 1, tsEvent: BASE }, 1n, now);
  agg.observe(old, 0);
  const fresh = enc.encode({ type: "trade", symbol: "AAPL", price: 2, size: 1, tsEvent: now }, 2n, now);
  agg.observe(fresh, 0);
  assert.equal(agg.stats.outOfWindow, 1);
  const bars = agg.collect(Number(now + 2_000_000_000n));
  assert.deepEqual(
    bars.map((b) => [b.open, b.trades]),
    [[2, 1]],
  );
});

test("quotes, books and bars make no bars; a quiet symbol none either", () => {
  const enc = new FrameEncoder();
  const agg = new BarAggregator([1e9], 0, Number(BASE));
  agg.observe(
    enc.encode(
      { type: "quote", symbol: "A", bidPrice: 1, bidSize: 1, askPrice: 2, askSize: 1, tsEvent: BASE },
      1n,
      BASE,
    ),
    0,
  );
  agg.observe(
    enc.encode(
      {
        type: "bar",
        symbol: "A",
        intervalNs: 1_000_000_000n,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
        tsEvent: BASE,
      },
      2n,
      BASE,
    ),
    0,
  );
  assert.deepEqual(agg.collect(Number(BASE + 10_000_000_000n)), []);
  assert.equal(agg.size, 0);
});

test("a bar frame that comes back after a newer revision was emitted changes nothing", () => {
  const enc = new FrameEncoder();
  let clock = BASE + 1_100_000_000n;
  const agg = new BarAggregator([1e9], 0, Number(clock));
  const trade = (seq: number, tsEvent: bigint) =>
    agg.observe(
      enc.encode({ type: "trade", symbol: "A", price: seq, size: 1, tsEvent }, BigInt(seq), clock),
      0,
    );
  trade(1, BASE + 100n);
  clock += 1_000_000_000n;
  const [r0] = agg.collect(Number(clock));
  trade(2, BASE + 200n); // late: a correction
  const [r1] = agg.collect(Number(clock));
  assert.deepEqual([r0.revision, r0.trades, r1.revision, r1.trades], [0, 1, 1, 2]);
  // They come back from the ring, the older first: neither is owed a correction.
  agg.observe(enc.encode(r0, 3n, clock), 0);
  assert.deepEqual(agg.collect(Number(clock + 1_000_000n)), []);
  agg.observe(enc.encode(r1, 4n, clock), 0);
  assert.deepEqual(agg.collect(Number(clock + 2_000_000n)), []);
});

test("held (a follower), bars go out only from the leader; once it leads, what the leader never emitted goes out late, within its window", () => {
  const enc = new FrameEncoder();
  const S = 1_000_000_000n;
  let clock = BASE + S / 2n;
  const leader = new BarAggregator(INTERVALS.map(Number), Number(GRACE), Number(clock));
  const follower = new BarAggregator(INTERVALS.map(Number), Number(GRACE), Number(clock));
  let seq = 0;
  /** A frame sequenced by the leader: both see it through their rings. */
  const sequence = (frame: Uint8Array) => {
    leader.observe(frame, 0);
    follower.observe(frame, 0);
  };
  const trade = (at: bigint) =>
    sequence(
      enc
        .encode({ type: "trade", symbol: "AAPL", price: 10, size: 1, tsEvent: at }, BigInt(++seq), clock)
        .slice(),
    );
  const ends = (bars: BarTick[]) =>
    bars.map((b) => [Number(b.intervalNs / S), Number((b.tsEvent! - BASE) / S)]);

  trade(BASE + (6n * S) / 10n);
  clock = BASE + (13n * S) / 10n;
  const fromLeader = leader.collect(Number(clock));
  assert.deepEqual(ends(fromLeader), [[1, 1]]);
  for (const bar of fromLeader) sequence(enc.encode(bar, BigInt(++seq), clock).slice());
  follower.hold(Number(clock));
  // The leader dies after a trade of the next second; the follower holds until it leads.
  trade(BASE + (15n * S) / 10n);
  clock = BASE + (23n * S) / 10n;
  follower.hold(Number(clock));
  clock = BASE + 3n * S;
  assert.deepEqual(ends(follower.collect(Number(clock))), [[1, 2]], "only the bar the leader never emitted");
  assert.equal(follower.stats.dropped, 0);

  // Held longer than a window: what nobody emitted meanwhile is dropped, not handed out ever after.
  trade(BASE + (35n * S) / 10n);
  for (clock = BASE + 4n * S; clock < BASE + 200n * S; clock += S) follower.hold(Number(clock));
  assert.deepEqual(follower.collect(Number(clock)), []);
  assert.equal(follower.stats.dropped, 2, "the 1 s bar ending at 4 s and the 1 m bar ending at 60 s");
});
