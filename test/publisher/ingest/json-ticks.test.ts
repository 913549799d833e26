import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameView, frameLength } from "../../../src/frame/codec.js";
import { frameToObject } from "../../../src/frame/json.js";
import { IngestDecoder, IngestError } from "../../../src/publisher/ingest/decoder.js";

const dec = new IngestDecoder();
// eslint-disable-next-line no-control-regex
const UNESCAPED = /[\u0000-\u001f\u202a-\u202e\u2066-\u2069]/;
const TRADE = { type: "trade", symbol: "AAPL", price: 1.5, size: 100 };

function decodeJson(message: unknown): ReturnType<IngestDecoder["decode"]> {
  return dec.decode(Buffer.from(typeof message === "string" ? message : JSON.stringify(message)), false);
}

/** The decoder's error for `message`: its code, message and the id it carries. */
function errorOf(message: unknown): { code: string; message: string; id: unknown } {
  try {
    decodeJson(message);
  } catch (err) {
    assert.ok(err instanceof IngestError, String(err));
    return { code: err.code, message: err.message, id: err.requestId };
  }
  assert.fail(`accepted ${JSON.stringify(message)}`);
}

function symbolsOf(bytes: Uint8Array, count: number): string[] {
  const out = [];
  for (let i = 0, off = 0; i < count; i++, off += frameLength(bytes, off)) {
    out.push(frameToObject(new FrameView().wrap(bytes, off)).symbol);
  }
  return out;
}

test("the envelope carries an id the decoder returns; the bare forms have none", () => {
  const a = decodeJson({ id: "batch-7", ticks: [TRADE, { ...TRADE, symbol: "MSFT" }] });
  assert.deepEqual([a.id, a.count, symbolsOf(a.frames, a.count)], ["batch-7", 2, ["AAPL", "MSFT"]]);
  assert.equal(decodeJson({ id: 42, ticks: [TRADE] }).id, 42);
  assert.equal(decodeJson({ ticks: [TRADE] }).id, undefined);
  assert.equal(decodeJson([TRADE]).id, undefined);
  assert.equal(decodeJson(TRADE).id, undefined);
});

test("errors about an envelope's ticks carry its id; a message whose id was not read carries none", () => {
  assert.deepEqual(errorOf({ id: 9, ticks: [TRADE, { ...TRADE, price: "x" }] }), {
    code: "BAD_TICK",
    message: 'ticks[1].price: expected a finite number, got "x"',
    id: 9,
  });
  assert.equal(errorOf({ id: "a", ticks: [] }).id, "a");
  assert.deepEqual(
    [errorOf({ id: "a", tick: [TRADE] }).code, errorOf({ id: "a", tick: [TRADE] }).id],
    ["BAD_REQUEST", "a"],
  );
  assert.equal(errorOf('{"id":5,"ticks":[').code, "BAD_JSON");
  assert.equal(errorOf('{"id":5,"ticks":[').id, undefined);
  for (const id of [1.5, "", "x".repeat(65), "a\u001b[31m", true, null, [1], 2 ** 53]) {
    const e = errorOf({ id, ticks: [TRADE] });
    assert.deepEqual([e.code, e.id], ["BAD_REQUEST", undefined], `id ${JSON.stringify(id)}`);
  }
});

test("symbols are 1–64 bytes of printable UTF-8: controls, ANSI escapes and bidi controls are refused", () => {
  const bad = [
    "",
    "A".repeat(65),
    "é".repeat(33), // 66 bytes in 33 characters
    "AB\u0000",
    "\u001b[2J",
    "A\u0085B",
    "AAPL\u202e",
    "\u2066X\u2069",
    "X\u200e",
    "X\u061c",
    "X\u2028",
    "X\ud800",
  ];
  for (const symbol of bad) {
    const e = errorOf({ ...TRADE, symbol });
    assert.equal(e.code, "BAD_TICK", JSON.stringify(symbol));
    assert.match(e.message, /^tick\.symbol: expected a symbol of 1–64 bytes of printable UTF-8/);
    assert.doesNotMatch(e.message, UNESCAPED, "the message escapes what it quotes");
  }
  const good = ["A", "BRK.B", "ES 2026-12", "é".repeat(32), "日本株", "€/$", "😀"];
  const d = decodeJson(good.map((symbol) => ({ ...TRADE, symbol })));
  assert.deepEqual(symbolsOf(d.frames, d.count), good);
});

test("unknown fields are refused, naming the field and what the type has", () => {
  const e = errorOf([TRADE, { ...TRADE, ts_evnt: "5" }]);
  assert.equal(e.code, "BAD_TICK");
  assert.match(
    e.message,
    /^ticks\[1\]: unknown field "ts_evnt"; a trade has type, symbol, instrument_id, ts_event, price/,
  );
  assert.match(errorOf({ ...TRADE, seq: 4 }).message, /unknown field "seq"/);
  assert.match(
    errorOf({ type: "book", symbol: "X", bids: [{ price: 1, size: 1, cnt: 2 }] }).message,
    /^tick\.bids\[0\]: expected only price, size and count/,
  );
});

test("levels: [price, size] pairs or objects, finite, at most 4096 a side", () => {
  const d = decodeJson({
    type: "book",
    symbol: "X",
    bids: [[1, 2]],
    asks: [{ price: 3, size: 4, count: 5 }],
  });
  const book = frameToObject(new FrameView().wrap(new Uint8Array(d.frames)));
  assert.deepEqual(
    [book.bids, book.asks, book.snapshot],
    [[{ price: 1, size: 2, count: 0 }], [{ price: 3, size: 4, count: 5 }], false],
  );
  assert.match(
    errorOf({ type: "book", symbol: "X", asks: [[1, 2, 3]] }).message,
    /^tick\.asks\[0\]: expected \[price, size\]/,
  );
  assert.match(
    errorOf({ type: "book", symbol: "X", asks: [{ price: 1, size: null }] }).message,
    /^tick\.asks\[0\]\.size: expected a finite number, got null/,
  );
  assert.match(
    errorOf({ type: "book", symbol: "X", bids: Array.from({ length: 4097 }, () => [1, 1]) }).message,
    /^tick\.bids: expected an array of at most 4096 levels, got an array of 4097 items$/,
  );
});

test("an error quotes at most a short prefix of the offending value", () => {
  const e = errorOf({ ...TRADE, price: "9".repeat(60_000) });
  assert.ok(e.message.length < 200, `${e.message.length} characters`);
  assert.match(e.message, /^tick\.price: expected a finite number, got "9{40}"… \(60000 characters\)$/);
  assert.ok(errorOf({ ...TRADE, symbol: Array.from({ length: 20_000 }, () => "AAPL") }).message.length < 200);
});

test("JSON nested 100K deep is refused before JSON.parse, as BAD_JSON", () => {
  for (const text of ["[".repeat(100_000), `{"id":1,"ticks":${"[".repeat(100_000)}${"]".repeat(100_000)}}`]) {
    const e = errorOf(text);
    assert.equal(e.code, "BAD_JSON");
    assert.match(e.message, /nests arrays and objects deeper than 16 levels/);
  }
  // Brackets inside strings do not count.
  assert.match(errorOf({ ...TRADE, symbol: "[".repeat(100) }).message, /tick\.symbol/);
});

test("messages that are not UTF-8 are BAD_JSON", () => {
  const bytes = Buffer.concat([
    Buffer.from('{"type":"trade","symbol":"A'),
    Buffer.from([0xff]),
    Buffer.from('","price":1,"size":1}'),
  ]);
  assert.throws(() => dec.decode(bytes, false), { code: "BAD_JSON" });
});
