/**
 * Fuzz target: binary ingest (the frame verifier behind IngestDecoder) and the sequencer's stamping.
 * Valid messages are mutated (bit flips, overwritten bytes, vtable slots pointed at each other) or replaced
 * by random bytes. Whatever comes in, the decoder answers BAD_FRAME or accepts; and whatever it accepts,
 * once stamped, reads back its seq, ts_recv and symbol, and still verifies (every field inside the frame,
 * no two sharing a byte).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TickringError } from "../../src/errors.js";
import {
  FrameEncoder,
  FrameView,
  frameLength,
  frameSeq,
  readI32,
  readU16,
  stampFrame,
} from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { FrameVerifier } from "../../src/frame/verify.js";
import { IngestDecoder } from "../../src/publisher/ingest/decoder.js";
import { tickArb } from "../support/ticks.js";
import { fuzzParams } from "./params.js";

const encoder = new FrameEncoder();

/** A message of 1–3 frames from our encoder. */
const message = fc
  .array(tickArb, { minLength: 1, maxLength: 3 })
  .map((ticks) => Buffer.concat(ticks.map((t) => Buffer.from(encoder.encode(t, 0n, 0n)))));

type Mutation = (b: Uint8Array) => void;

/** Flips one bit. */
const flip = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([at, bit]): Mutation => (b) => {
  b[at % b.length] ^= 1 << bit;
});
/** Overwrites one byte. */
const poke = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]): Mutation => (b) => {
  b[at % b.length] = v;
});
/** Points one vtable slot of the first frame's Frame (or body) table at another slot's field, or anywhere. */
const slot = fc
  .tuple(fc.boolean(), fc.nat(6), fc.nat(6), fc.option(fc.nat(200)))
  .map(([body, to, from, anywhere]): Mutation => (b) => {
    let table = 4 + readI32(b, 4);
    let vt = table - readI32(b, table);
    if (body) {
      const field = table + readU16(b, vt + 16);
      table = field + readI32(b, field);
      vt = table - readI32(b, table);
    }
    const size = readU16(b, vt);
    const dst = vt + 4 + 2 * (to % ((size - 4) / 2));
    const v = anywhere ?? readU16(b, vt + 4 + 2 * (from % ((size - 4) / 2)));
    b[dst] = v & 0xff;
    b[dst + 1] = v >>> 8;
  });
const mutated = fc
  .tuple(message, fc.array(fc.oneof(flip, poke, slot), { minLength: 1, maxLength: 4 }))
  .map(([m, mutations]) => {
    const b = new Uint8Array(m);
    for (const mutate of mutations) mutate(b);
    return b;
  });
const randomBytes = fc.uint8Array({ minLength: 0, maxLength: 400 });

/** Decodes `bytes`; when accepted, stamps each frame and checks what it reads back. */
function decodeAndStamp(dec: IngestDecoder, bytes: Uint8Array): void {
  let decoded;
  try {
    decoded = dec.decode(bytes, true);
  } catch (err) {
    assert.ok(err instanceof TickringError, `not a TickringError: ${String(err)}`);
    assert.equal(err.code, "BAD_FRAME");
    return;
  }
  const frames = decoded.frames.slice();
  const view = new DataView(frames.buffer);
  const verifier = new FrameVerifier();
  const fv = new FrameView();
  for (let i = 0, off = 0; i < decoded.count; i++) {
    const len = frameLength(frames, off);
    verifier.verify(frames, off, len);
    const symbol = Buffer.from(
      frames.subarray(verifier.symbolStart, verifier.symbolStart + verifier.symbolLength),
    );
    const seq = 1_000_000 + i;
    const tsRecv = 1_763_900_000_000_000_000n + BigInt(i);
    stampFrame(frames, view, off, seq, tsRecv);
    verifier.verify(frames, off, len);
    assert.equal(frameSeq(frames, off), seq);
    const f = fv.wrap(frames, off);
    assert.equal(f.tsRecv(), tsRecv);
    assert.deepEqual(
      Buffer.from(frames.subarray(verifier.symbolStart, verifier.symbolStart + verifier.symbolLength)),
      symbol,
    );
    frameToObject(f);
    off += len;
  }
}

test("mutated frames: BAD_FRAME or accepted, and what is accepted stamps and reads back", () => {
  const dec = new IngestDecoder();
  fc.assert(
    fc.property(mutated, (b) => decodeAndStamp(dec, b)),
    fuzzParams(3000),
  );
});

test("random bytes: BAD_FRAME, never a crash", () => {
  const dec = new IngestDecoder();
  fc.assert(
    fc.property(randomBytes, (b) => decodeAndStamp(dec, b)),
    fuzzParams(3000),
  );
});

test("frames from our encoder are accepted as sent and stamp exactly", () => {
  const dec = new IngestDecoder();
  fc.assert(
    fc.property(message, (m) => {
      assert.deepEqual(Buffer.from(dec.decode(m, true).frames), m);
      decodeAndStamp(dec, m);
    }),
    fuzzParams(300),
  );
});
