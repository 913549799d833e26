/** fast-check arbitraries of ticks, shared by the codec, ring and storage tests. */
import fc from "fast-check";
import type { Tick } from "../../src/frame/codec.js";

const price = fc.double({ min: 0.0001, max: 1e6, noNaN: true, noDefaultInfinity: true });
const size = fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true });
const symbol = fc.string({ minLength: 1, maxLength: 12, unit: "grapheme-ascii" });
const ns = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n });
const level = fc.record({ price, size, count: fc.integer({ min: 0, max: 0xffff_ffff }) });

/** Any tick the codec accepts, of every body type. */
export const tickArb: fc.Arbitrary<Tick> = fc.oneof(
  fc.record({
    type: fc.constant("trade" as const),
    symbol,
    tsEvent: ns,
    price,
    size,
    aggressor: fc.constantFrom("buy" as const, "sell" as const),
    tradeId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  }),
  fc.record({
    type: fc.constant("quote" as const),
    symbol,
    tsEvent: ns,
    bidPrice: price,
    bidSize: size,
    askPrice: price,
    askSize: size,
  }),
  fc.record({
    type: fc.constant("book" as const),
    symbol,
    tsEvent: ns,
    snapshot: fc.boolean(),
    bids: fc.array(level, { maxLength: 20 }),
    asks: fc.array(level, { maxLength: 20 }),
  }),
  fc.record({
    type: fc.constant("bar" as const),
    symbol,
    tsEvent: ns,
    intervalNs: fc.bigInt({ min: 1n, max: 86_400_000_000_000n }),
    open: price,
    high: price,
    low: price,
    close: price,
    volume: size,
    trades: fc.integer({ min: 0, max: 0xffff_ffff }),
    vwap: price,
    revision: fc.integer({ min: 0, max: 0xffff_ffff }),
  }),
);
