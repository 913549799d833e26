import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FrameEncoder, FrameView, frameLength } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { JsonRenderer, maxJsonBytes } from "../../src/frame/json-render.js";
import { tickArb } from "../support/ticks.js";

test("the renderer writes exactly the JSON of frameToObject, for any tick, seq and time", () => {
  const enc = new FrameEncoder();
  const view = new FrameView();
  const r = new JsonRenderer();
  const out = new Uint8Array(1 << 20);
  const dec = new TextDecoder();
  fc.assert(
    fc.property(
      fc.array(tickArb, { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
      (ticks, seq, tsRecv) => {
        for (const t of ticks) {
          const f = enc.encode(t, BigInt(seq), tsRecv).slice();
          const end = r.render(f, 0, out, 7);
          assert.ok(end - 7 <= maxJsonBytes(frameLength(f, 0)), "within the room promised");
          const text = dec.decode(out.subarray(7, end));
          assert.deepEqual(JSON.parse(text), frameToObject(view.wrap(f)));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("symbols with quotes and backslashes are escaped", () => {
  const f = new FrameEncoder()
    .encode({ type: "trade", symbol: 'A"B\\C', price: 1.5, size: 2 }, 1n, 5n)
    .slice();
  const out = new Uint8Array(4096);
  const end = new JsonRenderer().render(f, 0, out, 0);
  assert.equal(JSON.parse(new TextDecoder().decode(out.subarray(0, end))).symbol, 'A"B\\C');
});
