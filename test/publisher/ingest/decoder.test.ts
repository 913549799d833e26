import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TickringError } from "../../../src/errors.js";
import {
  FrameEncoder,
  FrameView,
  frameLength,
  instrumentIdOf,
  readI32,
  stampFrame,
} from "../../../src/frame/codec.js";
import { frameToObject } from "../../../src/frame/json.js";
import { FrameVerifier } from "../../../src/frame/verify.js";
import { IngestDecoder } from "../../../src/publisher/ingest/decoder.js";
import { plainTradeFrame } from "../../support/frames.js";
import { tickArb } from "../../support/ticks.js";

/** Decodes, then stamps seqs from 1 as the sequencer would, and reads each frame back. */
function sequence(frames: Uint8Array, count: number): ReturnType<typeof frameToObject>[] {
  const bytes = frames.slice();
  const view = new DataView(bytes.buffer);
  const out = [];
  for (let i = 0, off = 0; i < count; i++) {
    stampFrame(bytes, view, off, i + 1, 5n);
    out.push(frameToObject(new FrameView().wrap(bytes, off)));
    off += frameLength(bytes, off);
  }
  return out;
}

test("binary frames from our encoder pass through unchanged, and decode to what was encoded", () => {
  const enc = new FrameEncoder();
  const dec = new IngestDecoder();
  fc.assert(
    fc.property(fc.array(tickArb, { minLength: 1, maxLength: 20 }), (ticks) => {
      const parts = ticks.map((t) => Buffer.from(enc.encode(t, 0n, 0n)));
      const message = Buffer.concat(parts);
      const { frames, count } = dec.decode(message, true);
      assert.equal(count, ticks.length);
      assert.deepEqual(Buffer.from(frames), message, "no re-encode");
      const objs = sequence(frames, count);
      objs.forEach((o, i) => {
        assert.equal(o.seq, i + 1);
        assert.equal(o.symbol, ticks[i].symbol);
        assert.equal(o.type, ticks[i].type);
        assert.equal(o.ts_event, String(ticks[i].tsEvent === 0n ? 5n : ticks[i].tsEvent));
      });
    }),
    { numRuns: 200 },
  );
});

test("frames from another builder (defaults elided) are re-encoded with every slot", () => {
  const foreign = plainTradeFrame("IBM", 101.5, 300);
  const { frames, count } = new IngestDecoder().decode(foreign, true);
  const [o] = sequence(frames, count);
  assert.deepEqual(
    [o.seq, o.symbol, o.price, o.size, o.ts_recv, o.ts_event],
    [1, "IBM", 101.5, 300, "5", "5"],
  );
  assert.equal(o.instrument_id, instrumentIdOf("IBM"));
});

test("publishers may not send heartbeats, empty symbols or truncated frames", () => {
  const enc = new FrameEncoder();
  const dec = new IngestDecoder();
  const cases: [Uint8Array, RegExp][] = [
    [enc.encodeHeartbeat(1n, 1n).slice(), /heartbeats are the server's/],
    [enc.encode({ type: "trade", symbol: "", price: 1, size: 1 }, 0n, 0n).slice(), /symbol of 0 bytes/],
    [enc.encode({ type: "trade", symbol: "A", price: 1, size: 1 }, 0n, 0n).slice(0, 20), /size prefix says/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => dec.decode(bytes, true),
      (err: unknown) => err instanceof TickringError && err.code === "BAD_FRAME" && message.test(err.message),
    );
  }
});

test("a frame whose seq slot overlaps ts_recv is refused, not acked with a seq stamping overwrites", () => {
  const bytes = new FrameEncoder()
    .encode({ type: "trade", symbol: "AAPL", price: 1, size: 1 }, 0n, 0n)
    .slice();
  const table = 4 + readI32(bytes, 4);
  const vt = table - readI32(bytes, table);
  // Point field 1 (seq) at field 3 (ts_recv): vt+4 ← vt+8.
  bytes.copyWithin(vt + 4, vt + 8, vt + 10);
  assert.throws(
    () => new IngestDecoder().decode(bytes, true),
    (err: unknown) =>
      err instanceof TickringError && err.code === "BAD_FRAME" && /overlaps/.test(err.message),
  );
});

test("binary symbols follow the symbol rules: printable UTF-8, no controls or bidi characters", () => {
  const enc = new FrameEncoder();
  const dec = new IngestDecoder();
  for (const [symbol, message] of [
    ["\u001b[2J", /control character/],
    ["AAPL\u202e", /bidirectional/],
    ["A".repeat(65), /symbol of 65 bytes is too long/],
  ] as const) {
    const bytes = enc.encode({ type: "trade", symbol, price: 1, size: 1 }, 0n, 0n).slice();
    assert.throws(
      () => dec.decode(bytes, true),
      (err: unknown) => err instanceof TickringError && err.code === "BAD_FRAME" && message.test(err.message),
    );
  }
  const bytes = enc.encode({ type: "trade", symbol: "ABC", price: 1, size: 1 }, 0n, 0n).slice();
  const v = new FrameVerifier();
  v.verify(bytes, 0, bytes.length);
  bytes[v.symbolStart + 1] = 0xc0; // "B" → a lead byte with no continuation
  assert.throws(() => dec.decode(bytes, true), /not valid UTF-8/);
  assert.equal(
    dec.decode(enc.encode({ type: "trade", symbol: "日本株€", price: 1, size: 1 }, 0n, 0n), true).count,
    1,
  );
});

test("random bytes are rejected as BAD_FRAME, never crash the decoder", () => {
  const dec = new IngestDecoder();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
      try {
        dec.decode(bytes, true);
      } catch (err) {
        assert.ok(err instanceof TickringError, `not a TickringError: ${err}`);
        assert.equal(err.code, "BAD_FRAME");
      }
    }),
    { numRuns: 2000 },
  );
});
