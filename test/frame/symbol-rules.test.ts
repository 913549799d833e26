import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { printableProblem, symbolBytesProblem, symbolProblem } from "../../src/frame/symbol-rules.js";

test("a symbol passes as a string exactly when its UTF-8 bytes pass", () => {
  const text = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.string({
      unit: fc.constantFrom("A", "é", "€", "😀", "\u202e", "\u001b", "\u0085", "\u2066", " "),
      maxLength: 70,
    }),
  );
  fc.assert(
    fc.property(text, (s) => {
      const bytes = Buffer.from(s, "utf8");
      // A lone surrogate has no UTF-8 form (Buffer writes U+FFFD): the string is refused, the bytes are not.
      if (/\p{Cs}/u.test(s)) return;
      assert.equal(symbolProblem(s), symbolBytesProblem(bytes, 0, bytes.length), JSON.stringify(s));
    }),
    { numRuns: 2000 },
  );
});

test("malformed UTF-8 is refused: stray continuation, overlong, surrogate, past U+10FFFF, cut short", () => {
  for (const bytes of [
    [0x80],
    [0xc0, 0xaf],
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
  ]) {
    const b = Uint8Array.from([0x41, ...bytes, 0x42]);
    assert.equal(symbolBytesProblem(b, 0, b.length), "is not valid UTF-8", bytes.join(","));
  }
  assert.equal(printableProblem("a\ud83d"), "contains a lone surrogate (not valid Unicode)");
  assert.equal(printableProblem("😀"), undefined);
});
