import assert from "node:assert/strict";
import { test } from "node:test";
import { TickringError } from "../../src/errors.js";
import { FrameEncoder, frameSeq, readI32 } from "../../src/frame/codec.js";
import { type RingSink, Sequencer, type WalSink } from "../../src/publisher/sequencer.js";

/** Sinks that record what reached the WAL and the ring. */
function sinks(): { wal: WalSink & { seqs: number[] }; ring: RingSink & { frames: number } } {
  const seqs: number[] = [];
  return {
    wal: {
      seqs,
      get lastSeq() {
        return seqs.at(-1) ?? 0;
      },
      append: (_f, seq) => void seqs.push(seq),
      write: () => {},
      discardPending: () => {},
    },
    ring: {
      frames: 0,
      append() {
        this.frames++;
      },
      publish: () => {},
      discard: () => {},
    },
  };
}

/** Two trades, the second with its seq slot pointed at its ts_recv slot (as the verifier now refuses). */
function batchWithOverlap(): Uint8Array {
  const enc = new FrameEncoder();
  const good = enc.encode({ type: "trade", symbol: "A", price: 1, size: 1 }, 0n, 0n).slice();
  const bad = enc.encode({ type: "trade", symbol: "B", price: 1, size: 1 }, 0n, 0n).slice();
  const table = 4 + readI32(bad, 4);
  const vt = table - readI32(bad, table);
  bad.copyWithin(vt + 4, vt + 8, vt + 10);
  const both = new Uint8Array(good.length + bad.length);
  both.set(good);
  both.set(bad, good.length);
  return both;
}

test("stamped frames read back their seq", () => {
  const { wal, ring } = sinks();
  const s = new Sequencer(wal, ring, 41);
  const enc = new FrameEncoder();
  const frames = enc.encode({ type: "trade", symbol: "A", price: 1, size: 1 }, 0n, 0n).slice();
  assert.equal(s.appendEncoded(frames, 1), 42);
  assert.equal(frameSeq(frames, 0), 42);
  assert.deepEqual(wal.seqs, [42]);
});

test("a frame whose seq does not read back after stamping is refused before the WAL sees any of its message", () => {
  const { wal, ring } = sinks();
  const s = new Sequencer(wal, ring, 10);
  assert.throws(
    () => s.appendEncoded(batchWithOverlap(), 2),
    (err: unknown) =>
      err instanceof TickringError && err.code === "BAD_FRAME" && /frame 1 .*seq 12/.test(err.message),
  );
  assert.deepEqual(wal.seqs, [], "nothing of the message reached the WAL");
  assert.equal(ring.frames, 0);
  assert.equal(s.lastSeq, 10, "no seq consumed");
  const ok = new FrameEncoder().encode(
    { type: "quote", symbol: "Q", bidPrice: 1, bidSize: 1, askPrice: 2, askSize: 1 },
    0n,
    0n,
  );
  assert.equal(s.appendEncoded(ok.slice(), 1), 11, "the next message takes the next seq");
});

test("frames that carry their seqs (a follower's copy) keep their bytes and their seqs", () => {
  const { wal, ring } = sinks();
  const s = new Sequencer(wal, ring, 6);
  const enc = new FrameEncoder();
  const a = enc.encode({ type: "trade", symbol: "A", price: 1, size: 1 }, 7n, 123n).slice();
  const b = enc.encode({ type: "trade", symbol: "B", price: 2, size: 1 }, 8n, 456n).slice();
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  const copy = both.slice();
  assert.equal(s.appendStamped(both, 2, 7), 8);
  assert.deepEqual(wal.seqs, [7, 8]);
  assert.equal(ring.frames, 2);
  assert.deepEqual(both, copy, "nothing was stamped over");
  assert.equal(s.lastSeq, 8, "ticks sequenced later follow them");
});
