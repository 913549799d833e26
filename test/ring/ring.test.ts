import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FrameEncoder, frameLength, frameSeq, type Tick } from "../../src/frame/codec.js";
import {
  CACHE_LINE_LENGTH,
  CAPACITY_OFFSET,
  HEADER_LENGTH,
  TAIL_INTENT_OFFSET,
  TAIL_OFFSET,
  WAITERS_OFFSET,
} from "../../src/ring/layout.js";
import { RingWriter } from "../../src/ring/writer.js";
import { POLL_EMPTY, POLL_LAPPED, POLL_RUN, RingReader } from "../../src/ring/reader.js";
import { tickArb } from "../support/ticks.js";

const TRADE: Tick = { type: "trade", symbol: "A", price: 1.5, size: 100 };

/** Encodes `ticks` with seqs from `firstSeq` and returns owned copies. */
function encodeAll(ticks: Tick[], firstSeq = 1): Uint8Array[] {
  const enc = new FrameEncoder();
  return ticks.map((t, i) => enc.encode(t, BigInt(firstSeq + i), 1_763_900_000_000_000_000n).slice());
}

function trades(n: number, firstSeq = 1): Uint8Array[] {
  return encodeAll(
    Array.from({ length: n }, () => TRADE),
    firstSeq,
  );
}

/** Drains `reader`, checking run shape, and returns the delivered frames and lap reports in order. */
function drain(reader: RingReader, maxBytes?: number): Array<Uint8Array | { lostFromSeq: number }> {
  const out: Array<Uint8Array | { lostFromSeq: number }> = [];
  for (;;) {
    const r = reader.poll(maxBytes);
    if (r === POLL_EMPTY) return out;
    if (r === POLL_LAPPED) {
      out.push({ lostFromSeq: reader.lostFromSeq });
      continue;
    }
    assert.ok(reader.runIntact());
    assert.ok(reader.runEnd <= reader.bytes.length, "a run never crosses the end of the data region");
    let at = reader.runStart;
    for (let i = 0; i < reader.runCount; i++) {
      const len = frameLength(reader.bytes, at);
      out.push(reader.bytes.slice(at, at + len));
      at += len;
    }
    assert.equal(at, reader.runEnd, "runs hold whole records");
    if (maxBytes !== undefined && reader.runCount > 1) assert.ok(reader.runEnd - reader.runStart <= maxBytes);
  }
}

test("header fields sit on their own cache lines, before the data region", () => {
  const offsets = [TAIL_INTENT_OFFSET, TAIL_OFFSET, WAITERS_OFFSET, CAPACITY_OFFSET];
  assert.deepEqual(
    offsets,
    offsets.map((_, i) => i * CACHE_LINE_LENGTH),
  );
  assert.equal(HEADER_LENGTH, offsets.length * CACHE_LINE_LENGTH);
});

test("bad capacities, buffers and frames are refused with the bad value in the message", () => {
  assert.throws(() => RingWriter.allocate(3000), /capacity=3000/);
  assert.throws(() => RingWriter.allocate(512), /capacity=512/);
  assert.throws(() => RingWriter.allocate(2 ** 31), /capacity=2147483648/);
  assert.throws(() => new RingWriter(new SharedArrayBuffer(HEADER_LENGTH + 1000)), /capacity=1000/);
  assert.throws(() => new RingReader(new SharedArrayBuffer(HEADER_LENGTH + 1024)), /header capacity=0/);
  const writer = RingWriter.allocate(1024);
  assert.throws(() => new RingReader(writer.buffer, { start: "head" as "tail" }), /head/);
  assert.throws(() => writer.append(new Uint8Array(12)), /length=12/);
  assert.throws(() => writer.append(new Uint8Array(264)), /maxFrameLength=256\): length=264/);
  assert.throws(() => writer.append(new Uint8Array(16)), /size prefix says 0/);
});

test("a reader that keeps up gets every frame in order, in runs that never straddle the end", () => {
  fc.assert(
    fc.property(
      fc.array(tickArb, { minLength: 1, maxLength: 200 }),
      fc.constantFrom(8192, 16384),
      fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }),
      fc.integer({ min: 8, max: 8192 }),
      (ticks, capacity, batches, maxBytes) => {
        const frames = encodeAll(ticks);
        const writer = RingWriter.allocate(capacity);
        const reader = new RingReader(writer.buffer);
        const got: Array<Uint8Array | { lostFromSeq: number }> = [];
        let b = 0;
        for (let i = 0; i < frames.length;) {
          // Publish before a batch could lap the reader: this reader polls only between batches.
          let batchBytes = 0;
          for (let n = batches[b++ % batches.length]; n > 0 && i < frames.length; n--, i++) {
            if (batchBytes + 2 * frames[i].length > capacity) break;
            writer.append(frames[i]);
            batchBytes += 2 * frames[i].length;
          }
          writer.publish();
          got.push(...drain(reader, maxBytes));
        }
        assert.deepEqual(got, frames);
        assert.equal(reader.lastSeq, frames.length);
        assert.equal(reader.lag(), 0);
        assert.equal(reader.position(), writer.position());
        assert.equal(writer.notifyCalls, 0, "nobody slept, so publish never called notify");
      },
    ),
    { numRuns: 60 },
  );
});

test("a reader that falls a lap behind reports the first lost seq, then reads on from the tail", () => {
  fc.assert(
    fc.property(
      fc.array(tickArb, { minLength: 1, maxLength: 300 }),
      fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 10 }),
      (ticks, batches) => {
        const frames = encodeAll(ticks);
        const writer = RingWriter.allocate(8192);
        const reader = new RingReader(writer.buffer);
        let lastDelivered = 0;
        let b = 0;
        for (let i = 0; i < frames.length;) {
          for (let n = batches[b++ % batches.length]; n > 0 && i < frames.length; n--, i++) {
            writer.append(frames[i]);
          }
          writer.publish();
          const lapDue = writer.position() - reader.position() > 8192;
          const got = drain(reader);
          if (lapDue) {
            assert.deepEqual(got, [{ lostFromSeq: lastDelivered + 1 }]);
            assert.equal(reader.position(), writer.position());
          } else {
            assert.deepEqual(got, frames.slice(lastDelivered, i));
          }
          lastDelivered = i;
        }
      },
    ),
    { numRuns: 60 },
  );
});

test("a run overwritten while in use fails runIntact, and the next poll reports it lost", () => {
  const writer = RingWriter.allocate(1024);
  const frames = trades(40);
  const len = frames[0].length;
  const reader = new RingReader(writer.buffer);
  for (const f of frames.slice(0, 3)) writer.append(f);
  writer.publish();
  assert.equal(reader.poll(), POLL_RUN);
  assert.equal(reader.runCount, 3);
  assert.equal(reader.lastSeq, 3);
  assert.equal(reader.headroom(), 1024 - 3 * len);
  assert.ok(reader.runIntact());
  // Appending alone (no publish) raises tailIntent over the run's first bytes.
  for (const f of frames.slice(3, 12)) writer.append(f);
  assert.ok(reader.headroom() < 0);
  assert.equal(reader.runIntact(), false);
  assert.equal(reader.lastSeq, 0, "the torn run is not counted as delivered");
  writer.publish();
  assert.equal(reader.poll(), POLL_LAPPED);
  assert.equal(reader.lostFromSeq, 1);
  assert.equal(reader.poll(), POLL_EMPTY);
});

test("a new reader knows the seq before its start: tail skips history, oldest replays the current lap", () => {
  const writer = RingWriter.allocate(1024);
  const fresh = new RingReader(writer.buffer, { start: "oldest" });
  assert.equal(fresh.lastSeq, 0);
  const frames = trades(20);
  for (const f of frames.slice(0, 5)) writer.append(f);
  writer.publish();
  const atTail = new RingReader(writer.buffer);
  assert.equal(atTail.lastSeq, 5);
  assert.equal(atTail.poll(), POLL_EMPTY);
  assert.deepEqual(drain(new RingReader(writer.buffer, { start: "oldest" })), frames.slice(0, 5));
  assert.deepEqual(drain(fresh), frames.slice(0, 5));

  // The first lap holds `perLap` frames; the next one goes to offset 0 after padding.
  const perLap = Math.floor(1024 / frames[0].length);
  assert.ok(1024 % frames[0].length !== 0 && 12 - perLap < perLap);
  for (const f of frames.slice(5, 12)) writer.append(f);
  writer.publish();
  const oldest = new RingReader(writer.buffer, { start: "oldest" });
  assert.equal(oldest.lastSeq, perLap);
  assert.deepEqual(drain(oldest), frames.slice(perLap, 12));
  assert.equal(new RingReader(writer.buffer).lastSeq, 12);
});

test("a tail exactly at offset 0 still yields the previous lap's seqs", () => {
  const writer = RingWriter.allocate(1024);
  // Four 256-byte books fill the 1 KiB region exactly, with no padding.
  const big = encodeAll(
    Array.from({ length: 8 }, () => ({
      type: "book" as const,
      symbol: "AAPL",
      snapshot: false,
      bids: Array.from({ length: 5 }, () => ({ price: 1, size: 1 })),
      asks: [],
    })),
  );
  assert.equal(big[0].length, 256);
  for (const f of big.slice(0, 4)) writer.append(f);
  writer.publish();
  assert.equal(writer.position(), 1024);
  assert.equal(new RingReader(writer.buffer).lastSeq, 4);
  const oldest = new RingReader(writer.buffer, { start: "oldest" });
  assert.equal(oldest.lastSeq, 0);
  assert.deepEqual(drain(oldest), big.slice(0, 4));
});

test("heartbeats (seq 0) at the end of a run leave lastSeq at the last real seq", () => {
  const writer = RingWriter.allocate(4096);
  const enc = new FrameEncoder();
  const reader = new RingReader(writer.buffer);
  for (const f of trades(3)) writer.append(f);
  const heartbeat = enc.encodeHeartbeat(3n, 1n).slice();
  writer.append(heartbeat);
  writer.publish();
  assert.equal(reader.poll(), POLL_RUN);
  assert.equal(reader.runCount, 4);
  assert.equal(frameSeq(reader.bytes, reader.runEnd - heartbeat.length), 0);
  assert.equal(reader.lastSeq, 3);
});

test("a writer resuming a buffer keeps the dead writer's tailIntent, so its half-written bytes count as lost", () => {
  const dead = RingWriter.allocate(1024);
  const frames = trades(30);
  for (const f of frames.slice(0, 3)) dead.append(f);
  dead.publish();
  const reader = new RingReader(dead.buffer, { start: "oldest" });
  // Appended over a whole lap, never published: the bytes under the reader's cursor are gone.
  for (const f of frames.slice(3, 15)) dead.append(f);
  const resumed = new RingWriter(dead.buffer);
  assert.equal(resumed.position(), 3 * frames[0].length);
  resumed.append(frames[3]);
  resumed.publish();
  assert.equal(reader.poll(), POLL_LAPPED);
  assert.equal(reader.lostFromSeq, 1);
});
