import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import * as flatbuffers from "flatbuffers";
import {
  Body,
  FILE_IDENTIFIER,
  Frame,
  FRAME_ALIGNMENT,
  FrameEncoder,
  FrameView,
  frameBarIntervalNs,
  frameBodyFieldPos,
  frameBodyType,
  frameInstrumentId,
  frameLength,
  frameSeq,
  frameSymbolKey,
  frameSymbolSpan,
  frameTsRecvApprox,
  instrumentIdOf,
  readF64,
  stampFrame,
  symbolKeyOf,
  type Tick,
  TRADE_PRICE_SLOT,
  TRADE_SIZE_SLOT,
} from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { JsonRenderer } from "../../src/frame/json-render.js";
import { FrameVerifier } from "../../src/frame/verify.js";
import { tickArb } from "../support/ticks.js";

const BODY_OF: Record<Tick["type"], Body> = {
  trade: Body.Trade,
  quote: Body.Quote,
  book: Body.BookUpdate,
  bar: Body.Bar,
};

test("every tick type round-trips through encode and a zero-copy view", () => {
  const enc = new FrameEncoder();
  const view = new FrameView();
  fc.assert(
    fc.property(
      tickArb,
      fc.bigInt({ min: 1n, max: (1n << 53n) - 1n }),
      fc.integer({ min: 0, max: 64 }),
      (tick, seq, pad) => {
        const tsRecv = 1_763_900_000_000_000_000n + seq;
        const bytes = enc.encode(tick, seq, tsRecv);
        assert.equal(bytes.length % FRAME_ALIGNMENT, 0, "frames are 8-byte multiples");
        // Read it at an arbitrary offset inside a SharedArrayBuffer, as the ring will.
        const sab = new Uint8Array(new SharedArrayBuffer(bytes.length + pad * 8));
        const at = pad * 8;
        sab.set(bytes, at);
        assert.equal(frameLength(sab, at), bytes.length);
        assert.equal(frameSeq(sab, at), Number(seq));
        assert.equal(frameInstrumentId(sab, at), instrumentIdOf(tick.symbol));
        assert.equal(frameBodyType(sab, at), BODY_OF[tick.type]);
        assert.equal(frameTsRecvApprox(sab, at), Number(tsRecv));
        const span = [0, 0];
        frameSymbolSpan(sab, at, span);
        assert.equal(new TextDecoder().decode(sab.subarray(span[0], span[0] + span[1])), tick.symbol);

        const frame = view.wrap(sab, at);
        assert.equal(frame.seq(), seq);
        assert.equal(frame.tsRecv(), tsRecv);
        assert.equal(frame.tsEvent(), tick.tsEvent);
        const obj = frameToObject(frame);
        assert.equal(obj.type, tick.type);
        assert.equal(obj.symbol, tick.symbol);
        assert.equal(obj.seq, Number(seq));
        assert.equal(obj.ts_event, String(tick.tsEvent));
        switch (tick.type) {
          case "trade":
            assert.deepEqual(
              [
                readF64(sab, frameBodyFieldPos(sab, at, TRADE_PRICE_SLOT)),
                readF64(sab, frameBodyFieldPos(sab, at, TRADE_SIZE_SLOT)),
              ],
              [tick.price, tick.size],
              "price and size read in place",
            );
            assert.deepEqual(
              [obj.price, obj.size, obj.aggressor, obj.trade_id],
              [tick.price, tick.size, tick.aggressor, String(tick.tradeId)],
            );
            break;
          case "quote":
            assert.deepEqual(
              [obj.bid_price, obj.bid_size, obj.ask_price, obj.ask_size],
              [tick.bidPrice, tick.bidSize, tick.askPrice, tick.askSize],
            );
            break;
          case "book":
            assert.equal(obj.snapshot, tick.snapshot);
            assert.deepEqual(
              obj.bids,
              tick.bids.map((l) => ({ ...l })),
            );
            assert.deepEqual(
              obj.asks,
              tick.asks.map((l) => ({ ...l })),
            );
            break;
          case "bar":
            assert.deepEqual(
              [obj.interval_ns, obj.open, obj.high, obj.low, obj.close, obj.volume],
              [String(tick.intervalNs), tick.open, tick.high, tick.low, tick.close, tick.volume],
            );
            assert.deepEqual(
              [obj.trades, obj.vwap, obj.revision],
              [tick.trades ?? 0, tick.vwap ?? 0, tick.revision ?? 0],
            );
            assert.equal(frameBarIntervalNs(sab, at), Number(tick.intervalNs));
            break;
        }
      },
    ),
    { numRuns: 500 },
  );
});

test("heartbeats carry the latest seq and consume none", () => {
  const enc = new FrameEncoder();
  const bytes = enc.encodeHeartbeat(42n, 7n);
  assert.equal(frameSeq(bytes, 0), 0);
  assert.equal(frameBodyType(bytes, 0), Body.Heartbeat);
  const obj = frameToObject(new FrameView().wrap(bytes));
  assert.equal(obj.type, "heartbeat");
  assert.equal(obj.latest_seq, 42);
});

test("tsEvent defaults to ts_recv", () => {
  const bytes = new FrameEncoder().encode({ type: "trade", symbol: "AAPL", price: 1, size: 2 }, 1n, 99n);
  const f = new FrameView().wrap(bytes);
  assert.equal(f.tsEvent(), 99n);
});

test("frames encoded with seq 0 keep the seq and ts slots, so the sequencer can stamp them", () => {
  const enc = new FrameEncoder();
  // Two encodes: the builder is cleared between them, which must not drop forced defaults.
  enc.encode({ type: "trade", symbol: "A", price: 1, size: 1 }, 0n, 0n);
  const bytes = enc
    .encode({ type: "quote", symbol: "B", bidPrice: 1, bidSize: 1, askPrice: 2, askSize: 1 }, 0n, 0n)
    .slice();
  stampFrame(bytes, new DataView(bytes.buffer), 0, 42, 1_000n);
  const f = new FrameView().wrap(bytes);
  assert.equal(f.seq(), 42n);
  assert.equal(f.tsRecv(), 1_000n);
  assert.equal(f.tsEvent(), 1_000n, "unset ts_event takes ts_recv");
});

test("a Bar written before trades, vwap and revision existed still verifies and reads them as 0", () => {
  // The schema as it was: Bar with its first six fields only, built field by field as the old code did.
  const b = new flatbuffers.Builder(256);
  b.forceDefaults(true);
  const symbol = b.createString("AAPL");
  b.startObject(6);
  b.addFieldInt64(0, 60_000_000_000n, 0n);
  for (const [i, v] of [1, 2, 0.5, 1.5, 1000].entries()) b.addFieldFloat64(i + 1, v, 0);
  const body = b.endObject();
  const root = Frame.createFrame(b, 7n, 1n, 2n, instrumentIdOf("AAPL"), symbol, Body.Bar, body);
  b.finish(root, FILE_IDENTIFIER, true);
  const bytes = b.asUint8Array();
  new FrameVerifier().verify(bytes, 0, bytes.length);
  const obj = frameToObject(new FrameView().wrap(bytes));
  assert.deepEqual(
    [obj.interval_ns, obj.open, obj.high, obj.low, obj.close, obj.volume, obj.trades, obj.vwap, obj.revision],
    ["60000000000", 1, 2, 0.5, 1.5, 1000, 0, 0, 0],
  );
  const out = new Uint8Array(4096);
  const end = new JsonRenderer().render(bytes, 0, out, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.subarray(0, end))), obj, "the feeds' JSON too");
  assert.equal(frameBarIntervalNs(bytes, 0), 60_000_000_000);
});

test("symbolKeyOf hashes the symbol's UTF-8 bytes, as frameSymbolKey does in place", () => {
  const enc = new FrameEncoder();
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 20, unit: "binary" }), (symbol) => {
      const f = enc.encode({ type: "trade", symbol, price: 1, size: 1 }, 1n, 1n);
      assert.equal(symbolKeyOf(symbol), frameSymbolKey(f, 0));
    }),
  );
});
