import assert from "node:assert/strict";
import { test } from "node:test";
import * as flatbuffers from "flatbuffers";
import { TickringError } from "../../src/errors.js";
import {
  Body,
  BookUpdate,
  FILE_IDENTIFIER,
  Frame,
  FrameEncoder,
  Level,
  readI32,
  readU16,
  type Tick,
  Trade,
} from "../../src/frame/codec.js";
import { FrameVerifier } from "../../src/frame/verify.js";
import { plainTradeFrame } from "../support/frames.js";

const TRADE: Tick = { type: "trade", symbol: "AAPL", price: 1.5, size: 100, tsEvent: 7n };
const BOOK: Tick = {
  type: "book",
  symbol: "MSFT",
  snapshot: true,
  bids: [{ price: 1, size: 2, count: 3 }],
  asks: [{ price: 2, size: 1 }],
};

/** A copy of `tick` encoded by our encoder, for the test to mutate. */
function encoded(tick: Tick): Uint8Array {
  return new FrameEncoder().encode(tick, 0n, 0n).slice();
}

/** Positions in a size-prefixed frame at 0: the Frame table and its vtable, and the body's. */
function layout(b: Uint8Array): { table: number; vt: number; body: number; bodyVt: number } {
  const table = 4 + readI32(b, 4);
  const vt = table - readI32(b, table);
  const bodyField = table + readU16(b, vt + 16);
  const body = bodyField + readI32(b, bodyField);
  return { table, vt, body, bodyVt: body - readI32(b, body) };
}

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = v >>> 8;
}

function refused(b: Uint8Array, message: RegExp): void {
  assert.throws(
    () => new FrameVerifier().verify(b, 0, b.length),
    (err: unknown) => err instanceof TickringError && err.code === "BAD_FRAME" && message.test(err.message),
  );
}

test("frames from our encoder and from a plain builder verify", () => {
  const v = new FrameVerifier();
  for (const tick of [TRADE, BOOK]) {
    const b = encoded(tick);
    v.verify(b, 0, b.length);
    assert.equal(v.stampable, true);
    assert.equal(
      new TextDecoder().decode(b.subarray(v.symbolStart, v.symbolStart + v.symbolLength)),
      tick.symbol,
    );
  }
  const plain = plainTradeFrame("IBM", 1, 2);
  v.verify(plain, 0, plain.length);
  assert.equal(v.stampable, false, "no seq slot: the ingest edge re-encodes it");
  assert.equal(v.bodyType, Body.Trade);
});

test("a seq slot that overlaps ts_recv is refused (stamping ts_recv would overwrite the seq)", () => {
  const b = encoded(TRADE);
  const { vt } = layout(b);
  writeU16(b, vt + 4, readU16(b, vt + 8));
  refused(b, /Frame\.ts_recv overlaps Frame\.seq/);
});

/** Writes a uoffset at `field` that points at `target`. */
function pointAt(b: Uint8Array, field: number, target: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(field, target - field, true);
}

test("stamped slots that half-overlap, or overlap another field, are refused", () => {
  const a = encoded(TRADE);
  const la = layout(a);
  writeU16(a, la.vt + 8, readU16(a, la.vt + 6) + 4);
  refused(a, /Frame\.ts_recv is not aligned to 8 bytes/);

  const b = encoded(TRADE);
  const lb = layout(b);
  writeU16(b, lb.vt + 10, readU16(b, lb.vt + 8) + 4);
  refused(b, /Frame\.instrument_id overlaps Frame\.ts_recv/);

  const c = encoded(TRADE);
  writeU16(c, layout(c).vt + 4, 2);
  refused(c, /Frame\.seq lies outside its table/);
});

test("tables, vtables, strings and vectors that share bytes are refused", () => {
  // The body table using the Frame's vtable.
  const a = encoded(TRADE);
  const la = layout(a);
  a.set(new Uint8Array(new Int32Array([la.body - la.vt]).buffer), la.body);
  refused(a, /Trade vtable overlaps the Frame vtable/);

  // asks pointing at the bids vector.
  const b = encoded(BOOK);
  const lb = layout(b);
  const bids = lb.body + readU16(b, lb.bodyVt + 6);
  const asks = lb.body + readU16(b, lb.bodyVt + 8);
  pointAt(b, asks, bids + readI32(b, bids));
  refused(b, /asks overlaps the bids/);

  // The symbol inside the bids vector (its length 1, then the first byte of a price 1.0 and a 0).
  const c = encoded(BOOK);
  const lc = layout(c);
  const cBids = lc.body + readU16(c, lc.bodyVt + 6);
  pointAt(c, lc.table + readU16(c, lc.vt + 12), cBids + readI32(c, cBids));
  refused(c, /bids overlaps the symbol/);
});

test("non-finite prices and sizes are refused, in bodies and in book levels", () => {
  const fb = new flatbuffers.Builder(64);
  fb.forceDefaults(true);
  const symbol = fb.createString("X");
  const body = Trade.createTrade(fb, Number.NaN, 1, 0, 0n);
  const frame = Frame.createFrame(fb, 0n, 0n, 0n, 1, symbol, Body.Trade, body);
  fb.finish(frame, FILE_IDENTIFIER, true);
  refused(fb.asUint8Array().slice(), /Trade\.price is not finite/);

  fb.clear();
  fb.forceDefaults(true);
  const s2 = fb.createString("X");
  fb.startVector(24, 1, 8);
  Level.createLevel(fb, 1, Number.POSITIVE_INFINITY, 0);
  const bids = fb.endVector();
  BookUpdate.startBookUpdate(fb);
  BookUpdate.addBids(fb, bids);
  const book = BookUpdate.endBookUpdate(fb);
  fb.finish(Frame.createFrame(fb, 0n, 0n, 0n, 1, s2, Body.BookUpdate, book), FILE_IDENTIFIER, true);
  refused(fb.asUint8Array().slice(), /bids\[0\] is not finite/);
});
