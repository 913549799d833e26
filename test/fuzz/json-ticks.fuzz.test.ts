/**
 * Fuzz target: JSON ingest (the envelope, the tick rules, the nesting limit). Valid messages are mutated
 * (a field replaced by any JSON value, dropped, or joined by an unknown one; the text cut short), or
 * replaced by random JSON and random text. Whatever comes in, the decoder throws an IngestError with a
 * stable code and a short message, or accepts; and what it accepts decodes back to the ticks that were sent.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FrameView, frameLength, instrumentIdOf } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { IngestDecoder, IngestError } from "../../src/publisher/ingest/decoder.js";
import { tickArb } from "../support/ticks.js";
import { fuzzParams } from "./params.js";

/** A tick as the wire spells it. */
const jsonTick = tickArb.map((t) => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) {
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = typeof v === "bigint" ? String(v) : v;
  }
  return out;
});

/** A tick with one field replaced by any JSON value, dropped, or joined by an unknown one. */
const mutatedTick = fc
  .tuple(jsonTick, fc.nat(), fc.constantFrom("replace", "drop", "add"), fc.jsonValue({ maxDepth: 3 }))
  .map(([t, at, how, value]) => {
    const keys = Object.keys(t);
    const key = keys[at % keys.length];
    const out = { ...t };
    if (how === "replace") out[key] = value;
    else if (how === "drop") delete out[key];
    else out[`x_${key}`] = value;
    return out;
  });

const someTicks = fc.array(fc.oneof({ weight: 3, arbitrary: jsonTick }, mutatedTick), {
  minLength: 1,
  maxLength: 4,
});
const id = fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.double(), fc.constant(null));
const message = fc.oneof(
  someTicks,
  someTicks.map((ticks) => ticks[0]),
  fc.tuple(id, someTicks).map(([id, ticks]) => ({ id, ticks })),
  fc.jsonValue({ maxDepth: 6 }),
);
/** Text: a message, or one cut short, or random text, or deep nesting. */
const text = fc.oneof(
  { weight: 6, arbitrary: message.map((m) => JSON.stringify(m)) },
  fc.tuple(message, fc.nat()).map(([m, n]) => {
    const s = JSON.stringify(m);
    return s.slice(0, n % (s.length + 1));
  }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.nat(40).map((n) => `${"[".repeat(n)}{"type":"trade"}${"]".repeat(n)}`),
);

const CODES = new Set(["BAD_JSON", "BAD_TICK", "BAD_REQUEST"]);

test("JSON ingest: an IngestError with a stable code, or accepted and decoding back to what was sent", () => {
  const dec = new IngestDecoder();
  const view = new FrameView();
  fc.assert(
    fc.property(text, (t) => {
      let decoded;
      try {
        decoded = dec.decode(Buffer.from(t), false);
      } catch (err) {
        assert.ok(err instanceof IngestError, `not an IngestError: ${String(err)}`);
        assert.ok(CODES.has(err.code), err.code);
        assert.ok(err.message.length < 400, `${err.message.length} characters`);
        return;
      }
      const parsed = JSON.parse(t) as unknown;
      const sent = (
        Array.isArray(parsed)
          ? parsed
          : "ticks" in (parsed as object)
            ? (parsed as { ticks: unknown[] }).ticks
            : [parsed]
      ) as Record<string, unknown>[];
      assert.equal(decoded.count, sent.length);
      assert.equal(decoded.id, Array.isArray(parsed) ? undefined : (parsed as { id?: unknown }).id);
      const bytes = new Uint8Array(decoded.frames);
      for (let i = 0, off = 0; i < sent.length; i++, off += frameLength(bytes, off)) {
        assertSame(frameToObject(view.wrap(bytes, off)), sent[i]);
      }
    }),
    fuzzParams(3000),
  );
});

/** The frame holds what the JSON tick said, defaults applied. */
function assertSame(frame: Record<string, unknown>, tick: Record<string, unknown>): void {
  const expected: Record<string, unknown> = {
    ...tick,
    instrument_id: tick.instrument_id ?? instrumentIdOf(tick.symbol as string),
    ts_event: String(tick.ts_event ?? 0),
  };
  if (tick.type === "trade") {
    expected.aggressor = tick.aggressor ?? null;
    expected.trade_id = String(tick.trade_id ?? 0);
  }
  if (tick.type === "book") {
    expected.snapshot = tick.snapshot ?? false;
    for (const side of ["bids", "asks"]) {
      expected[side] = ((tick[side] ?? []) as unknown[]).map((l) =>
        Array.isArray(l) ? { price: l[0], size: l[1], count: 0 } : { count: 0, ...(l as object) },
      );
    }
  }
  if (tick.type === "bar") expected.interval_ns = String(tick.interval_ns);
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(frame[k], v, k);
}
