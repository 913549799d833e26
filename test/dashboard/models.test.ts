/**
 * The dashboard's feed models — the symbols table, the trades tape, the chart series window — fed with
 * messages recorded from a demo daemon's JSON feed (fixtures/feed-demo.ndjson: the `subscribed` answer of a
 * `*` subscription, its last values, then two live runs), and the number formats.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as fmt from "../../src/dashboard/format.js";
import { type FrameJson, nsToMs, parseFeedMessage } from "../../src/dashboard/frames.js";
import { SeriesWindow } from "../../src/dashboard/series.js";
import { SymbolTable } from "../../src/dashboard/symbols.js";
import { TradeTape } from "../../src/dashboard/tape.js";

const messages = readFileSync(
  new URL("../../../test/dashboard/fixtures/feed-demo.ndjson", import.meta.url),
  "utf8",
)
  .trim()
  .split("\n")
  .map(parseFeedMessage);
const subscribed = messages[0];
const [lastValues, ...live] = messages
  .slice(1)
  .map((m) => ("frames" in m ? m.frames : assert.fail("frames")));
const liveFrames = live.flat();

describe("dashboard feed messages", () => {
  test("control messages and frame runs are told apart; anything else is refused", () => {
    assert.ok("control" in subscribed && subscribed.control.op === "subscribed");
    assert.ok(lastValues.length > 0 && liveFrames.length > 0);
    assert.throws(() => parseFeedMessage('{"seq":1}'), /neither frames nor a control message/);
  });

  test("nanosecond strings become milliseconds", () => {
    assert.equal(nsToMs("1795860313529349965"), 1795860313529);
    assert.equal(nsToMs("0"), 0);
  });
});

describe("symbols table", () => {
  const seq = "control" in subscribed ? subscribed.control.seq! : 0;

  function fed(): SymbolTable {
    const t = new SymbolTable();
    t.liveFrom(seq);
    for (const f of [...lastValues, ...liveFrames]) t.onFrame(f);
    return t;
  }

  test("every symbol of the feed has a row; last values set prices but are not counted as ticks", () => {
    const t = fed();
    const symbols = new Set([...lastValues, ...liveFrames].map((f) => f.symbol));
    assert.equal(t.size, symbols.size);
    const t2 = new SymbolTable();
    t2.liveFrom(seq);
    t2.roll(0);
    for (const f of [...lastValues, ...liveFrames]) t2.onFrame(f);
    t2.roll(2000);
    const ticks = t2.view("symbol", false).reduce((s, r) => s + r.ticksPerSec * 2, 0);
    const liveTicks = liveFrames.filter((f) => f.seq > seq && f.type !== "bar").length;
    assert.equal(Math.round(ticks), liveTicks);
  });

  test("last price is the last trade's; change is against the first trade the table saw", () => {
    const t = fed();
    const trades = [...lastValues, ...liveFrames].filter((f) => f.type === "trade");
    const sym = trades[0].symbol;
    const mine = trades.filter((f) => f.symbol === sym);
    const row = t.get(sym)!;
    assert.equal(row.last, mine.at(-1)!.price);
    assert.equal(row.first, mine[0].price);
    assert.equal(row.change, mine.at(-1)!.price! - mine[0].price!);
  });

  test("sorting by each column, nulls last, ties by symbol; filtering ignores case", () => {
    const t = new SymbolTable();
    const f = (symbol: string, seqNo: number, price?: number): FrameJson => ({
      seq: seqNo,
      symbol,
      type: price === undefined ? "quote" : "trade",
      ts_event: "0",
      ts_recv: "0",
      price,
      bid_price: 1,
      ask_price: 2,
    });
    for (const frame of [f("AAA", 1, 10), f("BBB", 2, 20), f("CCC", 3), f("AAA", 4, 12), f("BBB", 5, 19)])
      t.onFrame(frame);
    assert.deepEqual(
      t.view("last", true).map((r) => r.symbol),
      ["BBB", "AAA", "CCC"],
    );
    assert.deepEqual(
      t.view("last", false).map((r) => r.symbol),
      ["AAA", "BBB", "CCC"],
    );
    assert.deepEqual(
      t.view("change", true).map((r) => r.symbol),
      ["AAA", "BBB", "CCC"],
    );
    assert.deepEqual(
      t.view("symbol", true).map((r) => r.symbol),
      ["CCC", "BBB", "AAA"],
    );
    assert.deepEqual(
      t.view("ticksPerSec", true).map((r) => r.symbol),
      ["AAA", "BBB", "CCC"],
      "equal rates: by symbol",
    );
    assert.deepEqual(
      t.view("symbol", false, "bb").map((r) => r.symbol),
      ["BBB"],
    );
    assert.equal(t.get("CCC")!.last, null);
    assert.equal(t.get("CCC")!.bid, 1);
  });

  test("bars are not ticks", () => {
    const t = new SymbolTable();
    t.onFrame({ seq: 1, symbol: "X", type: "bar", ts_event: "0", ts_recv: "0", close: 5 });
    assert.equal(t.size, 0);
  });
});

describe("trades tape", () => {
  test("the followed symbol's trades, newest first, at most its capacity", () => {
    const trades = liveFrames.filter((f) => f.type === "trade");
    const sym = trades[0].symbol;
    const mine = trades.filter((f) => f.symbol === sym);
    const tape = new TradeTape(2);
    tape.follow(sym);
    for (const f of liveFrames) tape.onFrame(f);
    const expected = mine.slice(-2).reverse();
    assert.deepEqual(
      tape.trades().map((t) => t.seq),
      expected.map((f) => f.seq),
    );
    assert.equal(tape.trades()[0].time, nsToMs(expected[0].ts_event));
    tape.follow("OTHER");
    assert.deepEqual(tape.trades(), []);
  });
});

describe("series window", () => {
  test("keeps the last points, times in seconds, holes as null", () => {
    const w = new SeriesWindow(3, 2);
    for (let i = 0; i < 5; i++) w.push(i * 1000, [i, i === 3 ? null : i * 10]);
    assert.deepEqual(w.data(), [
      [2, 3, 4],
      [2, 3, 4],
      [20, null, 40],
    ]);
    assert.throws(() => w.push(0, [1]), /expected 2 values, got 1/);
    assert.throws(() => new SeriesWindow(1, 1), /capacity must be ≥ 2: 1/);
  });
});

describe("formats", () => {
  test("counts, rates, bytes, durations, prices", () => {
    assert.equal(fmt.count(1234567), "1,234,567");
    assert.equal(fmt.compact(950), "950");
    assert.equal(fmt.compact(9_876), "9.9K");
    assert.equal(fmt.compact(12_345), "12.3K");
    assert.equal(fmt.compact(2_500_000), "2.5M");
    assert.equal(fmt.bytes(512), "512 B");
    assert.equal(fmt.bytes(1536), "1.5 KiB");
    assert.equal(fmt.bytes(3 * 1024 ** 3), "3.0 GiB");
    assert.equal(fmt.millis(0.4213), "0.42 ms");
    assert.equal(fmt.millis(31.4), "31.4 ms");
    assert.equal(fmt.duration(45_000), "45s");
    assert.equal(fmt.duration(725_000), "12m 5s");
    assert.equal(fmt.duration(3 * 3600_000 + 20 * 60_000), "3h 20m");
    assert.equal(fmt.duration(52 * 3600_000), "2d 4h");
    assert.equal(fmt.price(189.5), "189.50");
    assert.equal(fmt.price(0.000125), "0.000125");
    assert.equal(fmt.signed(1.25), "+1.25");
    assert.equal(fmt.signed(-0.4), "−0.40");
    assert.equal(fmt.count(null), fmt.NONE);
  });
});
