/**
 * The candlestick chart's model: history rows, live bar frames with revisions, and the forming candle from
 * trades, in the feed's JSON (docs/protocol.md, Bars: a bar's ts_event is its bucket's end).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BarRow, CandleSeries } from "../../src/dashboard/candles.js";
import type { FrameJson } from "../../src/dashboard/frames.js";

const S = 1_800_000_000; // a bucket start, in seconds
const ns = (sec: number, ms = 0) => `${sec}${String(ms).padStart(3, "0")}000000`;

function row(endSec: number, close: number, revision = 0, interval = 1): BarRow {
  return {
    symbol: "AAPL",
    ts_event: ns(endSec),
    interval_ns: `${interval}000000000`,
    open: close - 1,
    high: close + 1,
    low: close - 2,
    close,
    volume: 100,
    revision,
  };
}
const live = (r: BarRow, seq = 1): FrameJson => ({ ...r, seq, type: "bar", ts_recv: r.ts_event });
const trade = (
  seq: number,
  sec: number,
  ms: number,
  price: number,
  size = 10,
  symbol = "AAPL",
): FrameJson => ({
  seq,
  symbol,
  type: "trade",
  ts_event: ns(sec, ms),
  ts_recv: ns(sec, ms),
  price,
  size,
});

describe("candles", () => {
  test("history rows become candles at their bucket's start, oldest first, drawn whole", () => {
    const c = new CandleSeries("AAPL", 1);
    c.history([row(S + 2, 11), row(S + 1, 10)], 500);
    assert.deepEqual(
      c.candles().map((x) => [x.time, x.close]),
      [
        [S, 10],
        [S + 1, 11],
      ],
    );
    assert.deepEqual(c.takeChanges(), { all: true });
    assert.deepEqual(c.takeChanges(), { all: false, candles: [] });
  });

  test("trades form the newest candle; those the history covered are not counted twice", () => {
    const c = new CandleSeries("AAPL", 1);
    c.history([row(S + 1, 10)], 500);
    c.takeChanges();
    c.onFrame(trade(499, S, 500, 50)); // in the history already
    c.onFrame(trade(501, S, 900, 12, 5)); // the history's open bucket goes on
    c.onFrame(trade(502, S + 1, 100, 13, 7)); // the next bucket forms
    c.onFrame(trade(503, S + 1, 200, 9, 3));
    c.onFrame(trade(504, S + 1, 300, 8, 1, "MSFT")); // another symbol
    const [first, forming] = c.candles();
    assert.deepEqual(first, { time: S, open: 9, high: 12, low: 8, close: 12, volume: 105 });
    assert.deepEqual(forming, { time: S + 1, open: 13, high: 13, low: 9, close: 9, volume: 10 });
    const changes = c.takeChanges();
    assert.ok(!changes.all);
    assert.deepEqual(
      changes.candles.map((x) => x.time),
      [S, S + 1],
    );
  });

  test("a live bar replaces the forming candle and history; a later revision replaces it; never the reverse", () => {
    const c = new CandleSeries("AAPL", 1);
    c.onFrame(trade(1, S, 0, 20));
    c.onFrame(live(row(S + 1, 21)));
    assert.equal(c.candles()[0].close, 21);
    c.onFrame(trade(2, S, 500, 99)); // a trade after the bar: the bar is the daemon's word
    assert.equal(c.candles()[0].close, 21);
    c.history([row(S + 1, 5)], 0); // history older than the live bar
    assert.equal(c.candles()[0].close, 21);
    c.onFrame(live(row(S + 1, 22, 1)));
    assert.equal(c.candles()[0].close, 22);
    c.onFrame(live(row(S + 1, 23, 0)));
    assert.equal(c.candles()[0].close, 22, "an earlier revision never wins");
  });

  test("bars of other intervals and late trades for a bucket without a candle are left out", () => {
    const c = new CandleSeries("AAPL", 60);
    c.onFrame(live(row(S + 1, 30, 0, 1)));
    assert.equal(c.candles().length, 0);
    c.onFrame(live(row(S + 60, 31, 0, 60)));
    c.onFrame(trade(5, S + 130, 0, 32));
    c.onFrame(trade(6, S + 70, 0, 40)); // a bucket between the two: late
    assert.deepEqual(
      c.candles().map((x) => x.time),
      [S, S + 120],
    );
    assert.equal(c.newestTime, S + 120);
  });

  test("a candle that lands before the newest one makes the chart redraw whole", () => {
    const c = new CandleSeries("AAPL", 1);
    c.onFrame(trade(1, S + 5, 0, 20));
    c.takeChanges();
    c.onFrame(live(row(S + 3, 19)));
    assert.deepEqual(c.takeChanges(), { all: true });
  });
});
