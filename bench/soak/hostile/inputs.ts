/**
 * Hostile inputs for `/v1/ingest` and `/v1/feed`: random bytes, valid frames with bits flipped or vtable
 * slots pointed at each other, truncated and padded frames, malformed, deeply nested and huge JSON,
 * messages over the size limits, text that is not UTF-8, and requests that break each rule of the protocol
 * (docs/protocol.md). Each input has a `kind`, the label its answers are counted under, and what a correct
 * daemon answers: an error with a code, a close code, or — for the few valid ones — an ack or `subscribed`.
 */
import { FrameEncoder, readI32, readU16, type Tick } from "../../../src/frame/codec.js";
import type { Random } from "./random.js";

export interface Input {
  kind: string;
  data: Buffer | string;
  binary: boolean;
}

/** The ingest and feed message limits of a daemon with default options (docs/protocol.md, routes.ts). */
export const INGEST_LIMIT = 1024 * 1024;
export const FEED_LIMIT = 1024 * 1024;
/** Above this uWS cuts the connection itself (routes.ts: twice the limit and 64 KiB). */
const UWS_CEILING = 2 * INGEST_LIMIT + 64 * 1024;

const encoder = new FrameEncoder();
const BIDI = "\u202e";

function fuzzTick(rng: Random): Tick {
  const symbol = `FZ${rng.int(1000)}`;
  switch (rng.int(4)) {
    case 0:
      return { type: "trade", symbol, price: rng.next() * 100, size: rng.int(1000), tradeId: 1n };
    case 1:
      return { type: "quote", symbol, bidPrice: 1, bidSize: 2, askPrice: 3, askSize: 4 };
    case 2: {
      const levels = Array.from({ length: rng.int(5) }, (_, i) => ({ price: i, size: 1, count: 1 }));
      return { type: "book", symbol, snapshot: rng.chance(0.5), bids: levels, asks: levels };
    }
    default:
      return {
        type: "bar",
        symbol,
        intervalNs: 60_000_000_000n,
        open: 1,
        high: 2,
        low: 0.5,
        close: 1,
        volume: 9,
      };
  }
}

/** 1–3 valid frames from our encoder. */
function validFrames(rng: Random): Buffer {
  const n = rng.between(1, 3);
  return Buffer.concat(Array.from({ length: n }, () => Buffer.from(encoder.encode(fuzzTick(rng), 0n, 0n))));
}

/** Points one vtable slot of the first frame's Frame table at another slot's field, or at an arbitrary offset. */
function crossSlots(rng: Random, b: Buffer): void {
  const table = 4 + readI32(b, 4);
  const vt = table - readI32(b, table);
  const slots = (readU16(b, vt) - 4) / 2;
  const dst = vt + 4 + 2 * rng.int(slots);
  const v = rng.chance(0.5) ? readU16(b, vt + 4 + 2 * rng.int(slots)) : rng.int(400);
  b.writeUInt16LE(v, dst);
}

function jsonTick(rng: Random, i: number): Record<string, unknown> {
  return { type: "trade", symbol: `FZJ${i % 100}`, price: 1 + rng.int(100), size: 1 };
}

/** A JSON value that breaks one tick rule (docs/protocol.md, "Rules"). */
function badTick(rng: Random): unknown {
  const t = { type: "trade", symbol: "FZB", price: 1, size: 1 };
  return rng.pick<unknown>([
    { ...t, type: "heartbeat" },
    { ...t, symbol: "" },
    { ...t, symbol: "x".repeat(65) },
    { ...t, symbol: `A\u0000B` },
    { ...t, symbol: `A${BIDI}B` },
    { ...t, symbol: "A\u2028B" },
    { ...t, price: "1" },
    { ...t, price: null },
    { ...t, ts_evnt: "1" },
    { ...t, ts_event: "-1" },
    { ...t, ts_event: "9223372036854775808" },
    { ...t, ts_event: 2 ** 60 },
    { ...t, trade_id: "18446744073709551616" },
    { ...t, aggressor: "both" },
    { ...t, instrument_id: 2 ** 32 },
    { type: "book", symbol: "FZB", bids: Array.from({ length: 4097 }, () => [1, 1]), asks: [] },
    { type: "book", symbol: "FZB", bids: [[1]], asks: [] },
    { type: "bar", symbol: "FZB", interval_ns: "x", open: 1, high: 1, low: 1, close: 1, volume: 1 },
    { type: "quote", symbol: "FZB" },
    [t],
    "trade",
    42,
  ]);
}

function nested(depth: number, open = "[", close = "]"): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Flips, overwrites, drops or duplicates a few characters of `text`. */
function mutateText(rng: Random, text: string): string {
  let s = text;
  for (let n = rng.between(1, 4); n > 0; n--) {
    const at = rng.int(s.length + 1);
    switch (rng.int(4)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + 1);
        break;
      case 1:
        s =
          s.slice(0, at) +
          rng.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "0", "-", "e", " "]) +
          s.slice(at);
        break;
      case 2:
        s = s.slice(0, at);
        break;
      default:
        s = s.slice(0, at) + String.fromCharCode(rng.int(0x3000)) + s.slice(at + 1);
    }
  }
  return s;
}

/** Bytes that are not UTF-8: a lone continuation byte, an overlong NUL, a surrogate, a cut sequence. */
function badUtf8(rng: Random, around: string): Buffer {
  const bad = rng.pick([[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]);
  const text = Buffer.from(around);
  const at = rng.int(text.length + 1);
  return Buffer.concat([text.subarray(0, at), Buffer.from(bad), text.subarray(at)]);
}

let oversize: Buffer | undefined;
/** A message `extra` bytes over `limit` (one buffer, reused). */
function over(limit: number, extra: number): Buffer {
  if (oversize === undefined || oversize.length < UWS_CEILING + 4096) {
    oversize = Buffer.alloc(UWS_CEILING + 4096, 0x20);
  }
  return oversize.subarray(0, limit + extra);
}

/** A `{"ticks":[…]}` envelope of `n` ticks, ≈ 70 bytes each. */
function bigEnvelope(rng: Random, n: number, poison: boolean): string {
  const ticks = Array.from({ length: n }, (_, i) => jsonTick(rng, i));
  if (poison) ticks.push(badTick(rng) as Record<string, unknown>);
  return JSON.stringify({ id: `big-${rng.int(1e6)}`, ticks });
}

/** One hostile `/v1/ingest` message. */
export function ingestInput(rng: Random): Input {
  const r = rng.int(100);
  if (r < 8) return { kind: "random-bytes", data: rng.bytes(rng.between(0, 2048)), binary: true };
  if (r < 16) {
    const b = rng.bytes(rng.between(8, 1024));
    b.writeUInt32LE(b.length - 4, 0);
    return { kind: "random-frame-body", data: b, binary: true };
  }
  if (r < 30) {
    const b = validFrames(rng);
    for (let n = rng.between(1, 8); n > 0; n--) b[rng.int(b.length)] ^= 1 << rng.int(8);
    return { kind: "bit-flipped-frames", data: b, binary: true };
  }
  if (r < 36) {
    const b = validFrames(rng);
    crossSlots(rng, b);
    return { kind: "crossed-vtable-slots", data: b, binary: true };
  }
  if (r < 40) {
    const b = validFrames(rng);
    const cut = rng.chance(0.5);
    return {
      kind: cut ? "truncated-frame" : "frame-with-trailing-bytes",
      data: cut ? b.subarray(0, rng.int(b.length)) : Buffer.concat([b, rng.bytes(rng.between(1, 16))]),
      binary: true,
    };
  }
  if (r < 42) {
    return { kind: "heartbeat-frame", data: Buffer.from(encoder.encodeHeartbeat(7n, 0n)), binary: true };
  }
  if (r < 48)
    return { kind: "not-json", data: rng.bytes(rng.between(1, 200)).toString("latin1"), binary: false };
  if (r < 58) {
    const valid = JSON.stringify([jsonTick(rng, 0), jsonTick(rng, 1)]);
    return { kind: "mutated-json", data: mutateText(rng, valid), binary: false };
  }
  if (r < 66)
    return { kind: "bad-tick", data: JSON.stringify([jsonTick(rng, 0), badTick(rng)]), binary: false };
  if (r < 70) {
    const envelope = rng.pick<unknown>([
      { id: { a: 1 }, ticks: [] },
      { id: "x".repeat(65), ticks: [jsonTick(rng, 0)] },
      { id: 1.5, ticks: [jsonTick(rng, 0)] },
      { id: 1, ticks: {} },
      { id: 1, ticks: [], extra: true },
      { id: 1, ticks: [] },
    ]);
    return { kind: "bad-envelope", data: JSON.stringify(envelope), binary: false };
  }
  if (r < 72) {
    // 100,001 empty ticks: past the envelope's 100,000 in 300 KB.
    return {
      kind: "envelope-100001-ticks",
      data: `{"id":1,"ticks":[${"{},".repeat(100_000)}{}]}`,
      binary: false,
    };
  }
  if (r < 77) {
    // Up to ≈ 900 KB: under the message limit, so the nesting check, not the size limit, refuses it.
    const objects = rng.chance(0.5);
    const depth = rng.pick([17, 100, 10_000, objects ? 150_000 : 400_000]);
    return {
      kind: `nested-json-${depth}`,
      data: nested(depth, objects ? '{"a":' : "[", objects ? "}" : "]"),
      binary: false,
    };
  }
  if (r < 78) {
    // ≈ 850 KB of ticks: a valid one adds 12,000 ticks at once, so most carry one bad tick at the end.
    const poison = rng.chance(0.8);
    return {
      kind: poison ? "huge-json-one-bad-tick" : "huge-json-valid",
      data: bigEnvelope(rng, 12_000, poison),
      binary: false,
    };
  }
  if (r < 82) {
    return {
      kind: "bad-utf8-text",
      data: badUtf8(rng, JSON.stringify(jsonTick(rng, 0))),
      binary: false,
    };
  }
  if (r < 84)
    return { kind: "oversize-binary", data: over(INGEST_LIMIT, rng.between(1, 4096)), binary: true };
  if (r < 85) return { kind: "oversize-text", data: over(INGEST_LIMIT, 1), binary: false };
  if (r < 86) return { kind: "over-uws-ceiling", data: over(UWS_CEILING, 1), binary: true };
  if (r < 88) return { kind: "empty", data: rng.chance(0.5) ? "" : Buffer.alloc(0), binary: rng.chance(0.5) };
  // Valid, with legal but unusual symbols: these are acked.
  const symbol = rng.pick(["日本株", "ES 2026-12", "BRK.B", "é".repeat(32), "x".repeat(64)]);
  return {
    kind: "valid-unusual-symbol",
    data: JSON.stringify({ type: "trade", symbol, price: 1, size: 1 }),
    binary: false,
  };
}

const SUBSCRIBE = { op: "subscribe", id: 1, symbols: ["N00", "N01"] };

/** A subscribe request that breaks one rule, or an unknown op. */
function badRequest(rng: Random, id: number): unknown {
  const s = { ...SUBSCRIBE, id };
  return rng.pick<unknown>([
    { ...s, id: -1 },
    { ...s, id: 1.5 },
    { ...s, id: 2 ** 53 },
    { ...s, id: "1" },
    { ...s, symbols: [] },
    { ...s, symbols: ["*", "N00"] },
    { ...s, symbols: [123] },
    { ...s, symbols: ["A\u0000"] },
    { ...s, symbols: [`A${BIDI}`] },
    { ...s, symbols: ["x".repeat(65)] },
    { ...s, symbols: Array.from({ length: 10_001 }, (_, i) => `S${i}`) },
    { ...s, symbols: "N00" },
    { ...s, feed: "live" },
    { ...s, format: "xml" },
    { ...s, policy: "ignore" },
    { ...s, from: { seq: 1 } },
    { ...s, feed: "historical" },
    { ...s, feed: "historical", from: { seq: 10 }, to: { seq: 5 } },
    { ...s, feed: "historical", from: { seq: -1 } },
    { ...s, feed: "historical", from: { seq: 1e300 } },
    { ...s, feed: "historical", from: { seq: 1, time: "2026-01-01T00:00:00Z" } },
    { ...s, feed: "historical", from: { time: "yesterday" } },
    { ...s, feed: "historical", from: { time: "9999-12-31T23:59:59Z" } },
    { ...s, feed: "historical", from: { seq: 1 }, speed: 0 },
    { ...s, feed: "historical", from: { seq: 1 }, speed: -1 },
    { ...s, feed: "historical", from: { seq: 1 }, speed: "fast" },
    { ...s, feed: "historical", from: { seq: 1 }, live: true, to: { seq: 2 } },
    { ...s, feed: "historical", from: { seq: 9_007_199_254_740_991 } },
    { op: "unsubscribe", id: 987_654 },
    { op: "subscribe" },
    { op: "SUBSCRIBE", id },
    { op: "ping", extra: "x".repeat(1000) },
    { id },
    [s],
    null,
  ]);
}

/** One hostile `/v1/feed` message; `id` is a fresh subscription id for the valid ones. */
export function feedInput(rng: Random, id: number): Input {
  const r = rng.int(100);
  if (r < 6) return { kind: "binary-on-feed", data: rng.bytes(rng.between(1, 512)), binary: true };
  if (r < 16)
    return { kind: "not-json", data: rng.bytes(rng.between(1, 200)).toString("latin1"), binary: false };
  if (r < 36) {
    return {
      kind: "mutated-subscribe",
      data: mutateText(rng, JSON.stringify({ ...SUBSCRIBE, id })),
      binary: false,
    };
  }
  if (r < 70) return { kind: "bad-request", data: JSON.stringify(badRequest(rng, id)), binary: false };
  if (r < 74) {
    const depth = rng.pick([17, 1000, 400_000]);
    return { kind: `nested-json-${depth}`, data: nested(depth), binary: false };
  }
  if (r < 77) return { kind: "bad-utf8-text", data: badUtf8(rng, JSON.stringify(SUBSCRIBE)), binary: false };
  if (r < 79) return { kind: "oversize-text", data: over(FEED_LIMIT, rng.between(1, 4096)), binary: false };
  if (r < 85) {
    // The same id twice: the second is refused.
    return { kind: "duplicate-id", data: JSON.stringify({ ...SUBSCRIBE, id: 1 }), binary: false };
  }
  if (r < 92) return { kind: "ping", data: '{"op":"ping"}', binary: false };
  return { kind: "valid-subscribe", data: JSON.stringify({ ...SUBSCRIBE, id }), binary: false };
}
