import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FrameEncoder, FrameView } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { FrameText } from "../../src/subscriber/frame-text.js";
import { tickArb } from "../support/ticks.js";

test("a frame's JSON text is the WebSocket's, field for field", () => {
  const enc = new FrameEncoder();
  const view = new FrameView();
  const text = new FrameText();
  fc.assert(
    fc.property(
      fc.array(tickArb, { minLength: 1, maxLength: 10 }),
      fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
      (ticks, tsRecv) => {
        for (const [i, tick] of ticks.entries()) {
          const bytes = enc.encode(tick, BigInt(i + 1), tsRecv);
          assert.equal(text.json(bytes, 0), JSON.stringify(frameToObject(view.wrap(bytes, 0))));
        }
      },
    ),
    { numRuns: 300 },
  );
});
