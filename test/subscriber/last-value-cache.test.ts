import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FrameEncoder, frameLength, frameSymbolKey, symbolKeyOf } from "../../src/frame/codec.js";
import { LastValueCache } from "../../src/subscriber/last-value-cache.js";

const enc = new FrameEncoder();
const frame = (symbol: string, seq: number) =>
  enc.encode({ type: "trade", symbol, price: seq, size: 1 }, BigInt(seq), 1n).slice();
const utf8 = (s: string) => new TextEncoder().encode(s);

test("an evicting cache stays within its byte budget, keeps the newest symbols, and counts what it dropped", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 3000 }), (picks) => {
      const budget = { limit: 64 * 1024, used: 0 };
      const lvc = new LastValueCache(budget, "evict");
      for (const [i, p] of picks.entries()) {
        const f = frame(`SYM${p}`, i + 1);
        lvc.update(frameSymbolKey(f, 0), i + 1, f, 0, frameLength(f, 0));
        assert.ok(budget.used <= budget.limit, `used ${budget.used}`);
      }
      // The symbol updated last is always there, with its latest frame.
      const last = picks.at(-1)!;
      const got: Uint8Array[] = [];
      lvc.collectSymbol(symbolKeyOf(`SYM${last}`), utf8(`SYM${last}`), got);
      assert.deepEqual(got, [frame(`SYM${last}`, picks.length)]);
      const distinct = new Set(picks).size;
      assert.equal(lvc.size + lvc.evicted >= distinct, true);
      lvc.clear();
      assert.equal(budget.used, 0, "clear gives every byte back");
    }),
  );
});

test("a refusing cache keeps no new symbol once the shared budget is spent", () => {
  const budget = { limit: 2000, used: 0 };
  const a = new LastValueCache(budget, "refuse");
  const b = new LastValueCache(budget, "refuse");
  let kept = 0;
  for (let i = 0; i < 100; i++) {
    const f = frame(`Q${i}`, i + 1);
    if ((i % 2 === 0 ? a : b).update(frameSymbolKey(f, 0), i + 1, f, 0, frameLength(f, 0))) kept++;
  }
  assert.ok(kept > 0 && kept < 100, `kept ${kept}`);
  assert.ok(budget.used <= budget.limit);
  assert.equal(a.evicted + b.evicted, 0);
  // An existing symbol is still updated in place when the budget is spent.
  const f = frame("Q0", 1000);
  assert.equal(a.update(frameSymbolKey(f, 0), 1000, f, 0, frameLength(f, 0)), true);
});

test("the last trade, quote and bar of each interval are kept side by side, per symbol", () => {
  const lvc = new LastValueCache();
  const put = (f: Uint8Array, seq: number) => lvc.update(frameSymbolKey(f, 0), seq, f, 0, frameLength(f, 0));
  const bar = (intervalNs: bigint, seq: number) =>
    enc
      .encode(
        { type: "bar", symbol: "A", intervalNs, open: 1, high: 1, low: 1, close: 1, volume: seq },
        BigInt(seq),
        1n,
      )
      .slice();
  const quote = enc
    .encode({ type: "quote", symbol: "A", bidPrice: 1, bidSize: 1, askPrice: 2, askSize: 1 }, 2n, 1n)
    .slice();
  put(frame("A", 1), 1);
  put(quote, 2);
  put(bar(1_000_000_000n, 3), 3);
  put(bar(60_000_000_000n, 4), 4);
  put(bar(1_000_000_000n, 5), 5);
  put(frame("B", 6), 6);
  const got: Uint8Array[] = [];
  lvc.collectSymbol(symbolKeyOf("A"), utf8("A"), got);
  assert.deepEqual(got, [frame("A", 1), quote, bar(60_000_000_000n, 4), bar(1_000_000_000n, 5)]);
  assert.equal(lvc.size, 5);
});
