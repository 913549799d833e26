/** What the page reads of a token's claims (unverified: only to leave out what the daemon would refuse). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allows, grantsOf } from "../../src/dashboard/grants.js";

/** A JWT-shaped token with `claims` (header and signature are not read). */
const jwt = (claims: unknown) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;

test("stats need metrics or admin; history patterns as the token lists them", () => {
  assert.deepEqual(grantsOf(jwt({ sub: "a", tickring: { realtime: ["*"] } })), { stats: false, history: [] });
  assert.deepEqual(grantsOf(jwt({ sub: "a", tickring: { metrics: true, history: ["FX:*", "AAPL"] } })), {
    stats: true,
    history: ["FX:*", "AAPL"],
  });
  assert.equal(grantsOf(jwt({ sub: "a", tickring: { admin: true } })).stats, true);
  // A subject with non-ASCII characters decodes too (base64url of UTF-8).
  assert.equal(grantsOf(jwt({ sub: "zoë", tickring: { metrics: true } })).stats, true);
});

test("a token the page cannot read says nothing: the daemon decides", () => {
  for (const token of ["opaque", "a.%%%.c", jwt({ sub: "a" }), jwt(null), "a..c"]) {
    assert.deepEqual(grantsOf(token), { stats: undefined, history: undefined }, token);
  }
});

test("symbol patterns: exact, *, prefix*", () => {
  assert.ok(allows(["*"], "AAPL"));
  assert.ok(allows(["AAPL"], "AAPL"));
  assert.ok(!allows(["AAPL"], "AAPLX"));
  assert.ok(allows(["FX:*"], "FX:EURUSD"));
  assert.ok(!allows(["FX:*"], "AAPL"));
  assert.ok(!allows([], "AAPL"));
});
