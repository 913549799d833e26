import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TickringError } from "../../../src/errors.js";
import { FrameEncoder, type Tick } from "../../../src/frame/codec.js";
import { IngestDecoder } from "../../../src/publisher/ingest/decoder.js";
import { validateTick, validateTicks } from "../../../src/publisher/ingest/tick-rules.js";
import { tickArb } from "../../support/ticks.js";

function refusal(ticks: unknown[]): string {
  try {
    validateTicks(ticks as Tick[]);
  } catch (err) {
    assert.ok(err instanceof TickringError);
    assert.equal(err.code, "BAD_TICK");
    return err.message;
  }
  assert.fail("accepted");
}

test("validateTicks accepts every tick the codec encodes", () => {
  fc.assert(
    fc.property(fc.array(tickArb, { maxLength: 5 }), (ticks) => validateTicks(ticks)),
    { numRuns: 300 },
  );
  validateTick({ type: "book", symbol: "X", snapshot: false, bids: [], asks: [{ price: 1, size: 2 }] });
});

test("validateTicks refuses what the wire refuses, naming the camelCase field", () => {
  const q = { type: "quote", symbol: "Q", bidPrice: 1, bidSize: 1, askPrice: 2, askSize: 1 };
  assert.equal(
    refusal([{ type: "trade", symbol: "A", price: Number.NaN, size: 1 }]),
    "ticks[0].price: expected a finite number, got NaN",
  );
  assert.match(
    refusal([q, { ...q, bidPrice: undefined, bid_price: 1 }]),
    /^ticks\[1\]\.bidPrice: expected a finite number \(required\)/,
  );
  assert.match(
    refusal([{ ...q, ts_event: 5n }]),
    /^ticks\[0\]: unknown field "ts_event"; a quote has type, symbol, instrumentId, tsEvent, bidPrice/,
  );
  assert.match(refusal([{ ...q, tsEvent: 5 }]), /^ticks\[0\]\.tsEvent: expected nanoseconds as a bigint/);
  assert.match(refusal([{ ...q, tsEvent: -1n }]), /^ticks\[0\]\.tsEvent/);
  assert.match(
    refusal([{ ...q, type: "swap" }]),
    /^ticks\[0\]\.type: expected trade, quote, book or bar, got "swap"/,
  );
  assert.match(refusal([{ ...q, symbol: "A\u202eB" }]), /^ticks\[0\]\.symbol: .*bidirectional/);
  assert.match(
    refusal([{ type: "book", symbol: "B", snapshot: true, bids: [[1, 2]], asks: [] }]),
    /^ticks\[0\]\.bids\[0\]: expected \{price, size\[, count\]\}/,
  );
  assert.match(
    refusal([{ type: "book", symbol: "B", bids: [], asks: [] }]),
    /^ticks\[0\]\.snapshot: expected true or false \(required\)/,
  );
  assert.match(
    refusal([{ type: "trade", symbol: "A", price: 1, size: 1, tradeId: 1n << 64n }]),
    /^ticks\[0\]\.tradeId/,
  );
  assert.match(
    refusal([{ type: "trade", symbol: "A", price: 1, size: 1, aggressor: null }]),
    /^ticks\[0\]\.aggressor: expected "buy" or "sell"/,
  );
  assert.throws(() => validateTick({ ...q, askSize: Infinity } as Tick), /^TickringError: tick\.askSize/);
});

test("a tick passes validateTick exactly when its JSON spelling passes the wire", () => {
  const enc = new FrameEncoder();
  const dec = new IngestDecoder();
  const broken = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1n, "", "\u001b", null, 1.5);
  fc.assert(
    fc.property(tickArb, fc.option(fc.tuple(fc.nat(), broken), { freq: 2 }), (tick, breakIt) => {
      const t = { ...tick } as Record<string, unknown>;
      if (breakIt !== null) {
        const keys = Object.keys(t).filter((k) => k !== "type");
        const key = keys[breakIt[0] % keys.length];
        const v = breakIt[1];
        // Only breakages both spellings can carry: a bigint where a bigint goes (JSON has none), and no
        // null (or NaN, which JSON writes as null) aggressor: JSON's way of saying "unknown".
        const nullish = v === null || (typeof v === "number" && !Number.isFinite(v));
        if ((typeof v === "bigint") !== (typeof t[key] === "bigint") || (key === "aggressor" && nullish))
          return;
        t[key] = v;
      }
      let viaApi = true;
      try {
        validateTick(t as unknown as Tick);
      } catch {
        viaApi = false;
      }
      let viaWire = true;
      try {
        dec.decode(Buffer.from(JSON.stringify(toJson(t))), false);
      } catch {
        viaWire = false;
      }
      assert.equal(viaApi, viaWire, JSON.stringify(toJson(t)));
      if (viaApi) enc.encode(t as unknown as Tick, 1n, 1n);
    }),
    { numRuns: 500 },
  );
});

/** The wire's spelling of a camelCase tick (bigints as decimal strings, NaN and Infinity become null). */
function toJson(t: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) {
    const name = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    out[name] = typeof v === "bigint" ? (v < 0n ? Number(v) : String(v)) : v;
  }
  return out;
}
