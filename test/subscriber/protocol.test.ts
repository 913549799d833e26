import assert from "node:assert/strict";
import { test } from "node:test";
import { TickringError } from "../../src/errors.js";
import { parseFeedRequest } from "../../src/subscriber/protocol.js";

/** The BAD_REQUEST (or other) error `request` gets. */
function refusal(request: unknown, code = "BAD_REQUEST"): string {
  try {
    parseFeedRequest(typeof request === "string" ? request : JSON.stringify(request));
  } catch (err) {
    assert.ok(err instanceof TickringError, String(err));
    assert.equal(err.code, code, err.message);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(request)}`);
}

const SUB = { op: "subscribe", id: 1, symbols: ["AAPL"] };
const HIST = { ...SUB, feed: "historical", from: { seq: 10 } };

test("historical: to before from is refused, for seqs and for times", () => {
  assert.match(refusal({ ...HIST, to: { seq: 9 } }), /^to: seq 9 is before from's seq 10/);
  assert.match(
    refusal({ ...HIST, from: { time: "2026-11-23T10:00:00Z" }, to: { time: "2026-11-23T09:00:00Z" } }),
    /^to: time 2026-11-23T09:00:00\.000Z is before from's time 2026-11-23T10:00:00\.000Z/,
  );
  const one = parseFeedRequest(JSON.stringify({ ...HIST, to: { seq: 10 } }));
  assert.deepEqual(one.op === "subscribe" && [one.from, one.to], [{ seq: 10 }, { seq: 10 }]);
});

test("from (or to) with both seq and time is refused", () => {
  assert.match(
    refusal({ ...HIST, from: { seq: 1, time: "2026-11-23T09:00:00Z" } }),
    /^from: expected .* not both/,
  );
  assert.match(
    refusal({ ...HIST, to: { seq: 11, time: "2026-11-23T09:00:00Z" } }),
    /^to: expected .* not both/,
  );
  assert.match(refusal({ ...HIST, from: { seq: 1, sek: 2 } }), /^from: expected/);
});

test("from, to, speed and live on a realtime or delayed subscription are refused, naming the field", () => {
  for (const feed of [undefined, "realtime", "delayed"]) {
    for (const [field, value] of [
      ["from", { seq: 1 }],
      ["to", { seq: 5 }],
      ["speed", 10],
      ["live", true],
      ["live", false],
    ] as const) {
      assert.match(
        refusal({ ...SUB, feed, [field]: value }),
        new RegExp(`^${field}: only historical subscriptions`),
      );
    }
  }
  assert.match(refusal({ ...HIST, to: { seq: 20 }, live: true }), /^live: .*cannot be combined with "to"/);
});

test("symbols follow the symbol rules", () => {
  for (const s of ["", "A\u0000", "\u001b[31mRED", "X\u202e", "\u2067Y", "A".repeat(65), 5]) {
    assert.match(
      refusal({ ...SUB, symbols: ["OK", s] }),
      /^symbols\[1\]: expected a symbol of 1–64 bytes of printable UTF-8/,
    );
  }
  assert.match(refusal({ ...SUB, symbols: ["AAPL", "*"] }), /^symbols\[1\]: .*"\*", which goes alone/);
  const ok = parseFeedRequest(JSON.stringify({ ...SUB, symbols: ["日本株", "BRK.B"] }));
  assert.deepEqual(ok.op === "subscribe" && ok.symbols, ["日本株", "BRK.B"]);
});

test("an error never echoes the request back: at most a short prefix", () => {
  const symbols = Array.from({ length: 12_000 }, (_, i) => `SYM${i}`);
  const big = refusal({ ...SUB, symbols });
  assert.ok(big.length < 200, `${big.length} characters: ${big.slice(0, 300)}`);
  assert.match(big, /got an array of 12000 items/);
  assert.ok(refusal({ ...SUB, feed: "x".repeat(60_000) }).length < 200);
  assert.ok(refusal({ op: "y".repeat(60_000) }, "UNKNOWN_OP").length < 200);
  assert.ok(refusal({ ...SUB, symbols: [{ a: "x".repeat(60_000) }] }).length < 200);
});

test("deep nesting is refused before JSON.parse, never as a stack overflow", () => {
  const deep = `{"op":"subscribe","id":1,"symbols":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
  assert.match(refusal(deep, "BAD_JSON"), /deeper than 16 levels/);
  // Just inside the limit, JSON.stringify of the value would still be fine; the answer is BAD_REQUEST.
  assert.match(
    refusal(`{"op":"subscribe","id":1,"symbols":[${"[".repeat(10)}${"]".repeat(10)}]}`),
    /^symbols\[0\]/,
  );
});

test("types and bars pick frame types and bar intervals; careless ones are refused", () => {
  const ok = parseFeedRequest(JSON.stringify({ ...SUB, types: ["bar", "trade", "bar"], bars: ["1m", "1s"] }));
  assert.deepEqual(ok.op === "subscribe" && [ok.types, ok.bars], [
    ["bar", "trade"],
    [60e9, 1e9],
  ]);
  const all = parseFeedRequest(JSON.stringify(SUB));
  assert.deepEqual(all.op === "subscribe" && [all.types, all.bars], [null, null]);
  assert.match(refusal({ ...SUB, types: [] }), /^types: expected an array of 1–4 of trade, quote, book, bar/);
  assert.match(
    refusal({ ...SUB, types: ["trades"] }),
    /^types\[0\]: expected one of trade, quote, book, bar, got "trades"/,
  );
  assert.match(refusal({ ...SUB, bars: ["90ms"] }), /^bars\[0\]: expected a whole number of seconds/);
  assert.match(refusal({ ...SUB, bars: "1m" }), /^bars: expected an array/);
  assert.match(
    refusal({ ...SUB, types: ["quote"], bars: ["1m"] }),
    /^bars: picks bar intervals, but "types" leaves bars out/,
  );
});
