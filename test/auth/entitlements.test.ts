import assert from "node:assert/strict";
import { test } from "node:test";
import { type Grants, grantsOf } from "../../src/auth/claims.js";
import { admitFeed, permissionRefusal, RESUME_WINDOW_MS } from "../../src/auth/entitlements.js";
import { patternProblem, SymbolPatterns } from "../../src/auth/patterns.js";
import { TickringError } from "../../src/errors.js";

const NOW = Date.parse("2026-11-23T12:00:00Z");

function grants(claim: Record<string, unknown>): Grants {
  return grantsOf({ sub: "alice", exp: NOW / 1000 + 3600, tickring: claim });
}

/** The FORBIDDEN refusal `fn` throws. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TickringError);
    assert.equal(err.code, "FORBIDDEN");
    return err.message;
  }
  assert.fail("not refused");
}

test("patterns: exact symbols, * and prefixes ending in *; nothing else", () => {
  const p = new SymbolPatterns(["AAPL", "FX:*", "日本*"]);
  assert.ok(p.allows("AAPL") && p.allows("FX:EURUSD") && p.allows("FX:") && p.allows("日本株"));
  assert.ok(!p.allows("AAPL2") && !p.allows("MSFT") && !p.allows("fx:EURUSD"));
  assert.ok(new SymbolPatterns(["*"]).allows("ANYTHING"));
  assert.ok(new SymbolPatterns([]).none && !new SymbolPatterns([]).allows("AAPL"));
  for (const bad of ["A*B", "**", "*A", "", 3, "A\u0000*"])
    assert.ok(patternProblem(bad) !== undefined, `${bad}`);
  for (const good of ["*", "A*", "BRK.B", "ES 2026-12"]) assert.equal(patternProblem(good), undefined);
  assert.ok(new SymbolPatterns(["*"]).covers(p));
  assert.ok(new SymbolPatterns(["FX*", "AAPL"]).covers(new SymbolPatterns(["FX:*", "AAPL"])));
  assert.ok(!new SymbolPatterns(["FX:*"]).covers(new SymbolPatterns(["FX*"])));
  assert.ok(!p.covers(new SymbolPatterns(["*"])));
});

test("claims: missing ones grant nothing; unknown or malformed ones refuse the token whole", () => {
  const g = grantsOf({ sub: "bob" });
  assert.deepEqual([g.ingest, g.admin, g.metrics, g.expMs], [false, false, false, undefined]);
  assert.ok(g.realtime.none && g.delayed.none && g.history.none);
  assert.deepEqual(
    [g.maxConnections, g.maxSubscriptions, g.historyLookbackMs],
    [undefined, undefined, undefined],
  );
  const unauthorized = (payload: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => grantsOf(payload),
      (e: TickringError) => e.code === "UNAUTHORIZED" && pattern.test(e.message),
    );
  unauthorized({}, /no sub/);
  unauthorized({ sub: "a", tickring: { max_conections: 1 } }, /max_conections: unknown/);
  unauthorized({ sub: "a", tickring: { realtime: "AAPL" } }, /realtime: expected an array/);
  unauthorized({ sub: "a", tickring: { realtime: ["A*B"] } }, /realtime\[0\]/);
  unauthorized({ sub: "a", tickring: { max_connections: 0 } }, /max_connections/);
  unauthorized({ sub: "a", tickring: { history_lookback: "30" } }, /history_lookback/);
  unauthorized({ sub: "a", tickring: { ingest: "yes" } }, /ingest/);
  assert.equal(grants({ history_lookback: "30d" }).historyLookbackMs, 30 * 86_400_000);
});

test("realtime: named symbols outside the token are refused, naming them and where they are entitled", () => {
  const g = grants({ realtime: ["AAPL"], delayed: ["*"], history: ["MSFT"] });
  assert.equal(admitFeed(g, "realtime", ["AAPL"], false, NOW).allow, undefined);
  const message = refusal(() => admitFeed(g, "realtime", ["AAPL", "MSFT", "TSLA"], false, NOW));
  assert.match(
    message,
    /^realtime: not entitled to "MSFT", "TSLA"; entitled to delayed; historical for "MSFT"$/,
  );
  const many = Array.from({ length: 30 }, (_, i) => `S${i}`);
  assert.match(
    refusal(() => admitFeed(g, "realtime", many, false, NOW)),
    /"S9" and 20 more/,
  );
});

test("* is a filter of what the token allows, refused only when it allows nothing", () => {
  const g = grants({ realtime: ["AAPL", "FX:*"] });
  const allow = admitFeed(g, "realtime", null, false, NOW).allow!;
  assert.deepEqual(
    ["AAPL", "MSFT", "FX:EURUSD"].map((s) => allow(s)),
    [true, false, true],
  );
  assert.equal(admitFeed(grants({ realtime: ["*"] }), "realtime", null, false, NOW).allow, undefined);
  assert.match(
    refusal(() => admitFeed(grants({ delayed: ["*"] }), "realtime", null, false, NOW)),
    /entitled to delayed/,
  );
});

test("delayed: the delayed patterns and the realtime ones", () => {
  const g = grants({ realtime: ["AAPL"], delayed: ["MSFT"] });
  admitFeed(g, "delayed", ["AAPL", "MSFT"], false, NOW);
  assert.match(
    refusal(() => admitFeed(g, "delayed", ["TSLA"], false, NOW)),
    /^delayed: not entitled to "TSLA"/,
  );
  const allow = admitFeed(g, "delayed", null, false, NOW).allow!;
  assert.deepEqual([allow("AAPL"), allow("MSFT"), allow("TSLA")], [true, true, false]);
});

test("historical: history patterns and history_lookback; live needs realtime too", () => {
  const g = grants({ realtime: ["AAPL"], history: ["*"], history_lookback: "30d" });
  const h = admitFeed(g, "historical", ["MSFT"], false, NOW);
  assert.equal(h.earliestNs, (NOW - 30 * 86_400_000) * 1e6);
  assert.match(h.tooEarly().message, /history_lookback 30d: start at 2026-10-24T12:00:00.000Z or later/);
  assert.match(
    refusal(() => admitFeed(g, "historical", ["MSFT"], true, NOW)),
    /^historical live: not entitled to "MSFT"/,
  );
  assert.equal(admitFeed(g, "historical", ["AAPL"], true, NOW).earliestNs, (NOW - 30 * 86_400_000) * 1e6);
  assert.equal(admitFeed(grants({ history: ["*"] }), "historical", ["X"], false, NOW).earliestNs, -Infinity);
  refusal(() => admitFeed(grants({ realtime: ["*"] }), "historical", ["X"], false, NOW));
});

test("a live replay of real-time symbols without history may resume from a minute back only", () => {
  const g = grants({ realtime: ["AAPL"] });
  const live = admitFeed(g, "historical", ["AAPL"], true, NOW);
  assert.equal(live.earliestNs, (NOW - RESUME_WINDOW_MS) * 1e6);
  assert.match(live.tooEarly().message, /goes back at most 1m/);
  // A lookback shorter than the resume window does not shorten it.
  const short = grants({ realtime: ["*"], history: ["*"], history_lookback: "10s" });
  assert.equal(admitFeed(short, "historical", null, true, NOW).earliestNs, (NOW - RESUME_WINDOW_MS) * 1e6);
});

test("permissions: ingest, admin, and metrics (or admin)", () => {
  const none = grants({});
  for (const p of ["ingest", "admin", "metrics"] as const) {
    assert.equal(permissionRefusal(none, p)?.code, "FORBIDDEN");
    assert.equal(permissionRefusal(grants({ [p]: true }), p), undefined);
  }
  assert.equal(permissionRefusal(grants({ admin: true }), "metrics"), undefined);
  assert.equal(permissionRefusal(grants({ metrics: true }), "admin")?.code, "FORBIDDEN");
});
