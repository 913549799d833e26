import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameEncoder, frameLength, frameSeq, frameSymbolKey } from "../../src/frame/codec.js";
import { LastValueCache } from "../../src/subscriber/last-value-cache.js";
import {
  type FeedConnection,
  newFeedCounters,
  RealtimeFeed,
  RealtimeSubscription,
} from "../../src/subscriber/realtime-feed.js";
import { corkedSender } from "../../src/subscriber/send.js";
import { FrameFilter } from "../../src/subscriber/frame-filter.js";
import { FakeSocket } from "../support/fake-socket.js";

const SYMBOLS = ["AAPL", "MSFT", "FX:EURUSD", "NVDA"];

/** A run of `n` trades, seqs from 1, symbols in turn. */
function run(n: number): Uint8Array {
  const enc = new FrameEncoder();
  const frames = Array.from({ length: n }, (_, i) =>
    Buffer.from(
      enc.encode(
        { type: "trade", symbol: SYMBOLS[i % SYMBOLS.length], price: 1, size: 1 },
        BigInt(i + 1),
        1n,
      ),
    ),
  );
  return Buffer.concat(frames);
}

function conn(): FeedConnection & { ws: FakeSocket } {
  const ws = new FakeSocket();
  return { ws, closed: false, sender: corkedSender(ws) };
}

test("a * filter with an allow predicate takes only the allowed symbols, asking once per symbol", () => {
  const asked: string[] = [];
  const filter = new FrameFilter(null, null, null, (s) => {
    asked.push(s);
    return s === "AAPL" || s.startsWith("FX:");
  });
  assert.equal(filter.takesAll, false);
  assert.equal(new FrameFilter(null).takesAll, true);
  assert.equal(new FrameFilter(["AAPL"]).takesAll, false);
  const bytes = run(40);
  const matched: number[] = [];
  for (let off = 0; off < bytes.length; off += frameLength(bytes, off)) {
    if (filter.matches(bytes, off, frameSymbolKey(bytes, off))) matched.push(frameSeq(bytes, off));
  }
  assert.deepEqual(
    matched,
    Array.from({ length: 40 }, (_, i) => i + 1).filter((s) => (s - 1) % 4 === 0 || (s - 1) % 4 === 2),
  );
  assert.deepEqual(asked, SYMBOLS, "one question per symbol");
});

test("the fan-out sends a held-back * subscriber only its symbols, and the others everything (JSON: test/daemon/auth.test.ts)", () => {
  const feed = new RealtimeFeed(new LastValueCache(), { bytes: 1 << 20 }, newFeedCounters());
  const allow = (s: string) => s === "MSFT";
  const held = conn();
  const everything = conn();
  feed.add(new RealtimeSubscription(1, held, new FrameFilter(null, null, null, allow), false, "drop"));
  feed.add(new RealtimeSubscription(3, everything, new FrameFilter(null), false, "drop"));
  const bytes = run(16);
  feed.dispatch(bytes, 0, bytes.length);
  assert.deepEqual(held.ws.seqs(), [2, 6, 10, 14]);
  assert.equal(everything.ws.seqs().length, 16);
  // A later subscriber's last values are held back the same way.
  const late = conn();
  const lateSub = new RealtimeSubscription(5, late, new FrameFilter(null, null, null, allow), false, "drop");
  feed.add(lateSub, feed.lastValuesFor(lateSub));
  assert.deepEqual(late.ws.seqs(), [14]);
});
